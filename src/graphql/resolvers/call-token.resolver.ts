import { Arg, Ctx, Field, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { CallTokenResult } from '../../domain/call-tokens.js';
import type { GatewayContext } from '../context.js';
import { DateTimeScalar } from '../types/scalars.js';
import { UserErrorObject } from '../types/user-error.type.js';
import { CreateCallTokenInput } from '../inputs/call-token.input.js';

@ObjectType('CreateCallTokenPayload', { description: "A LiveKit join token for one call's room.", simpleResolvers: true })
class CreateCallTokenPayload {
  @Field(() => String, { nullable: true, description: 'The JWT to connect with (LiveKit client SDKs); grants this room only.' })
  token!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the token stops being accepted.' })
  expiresAt!: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The room it grants: the call's livekitRoomName, or for a call without a WebRTC leg (whose livekitRoomName is null) the room its legs meet in.",
  })
  roomName!: string | null;

  @Field(() => String, { nullable: true, description: 'The LiveKit server to connect to (wss://…).' })
  serverUrl!: string | null;

  @Field(() => [UserErrorObject], { description: 'Why no token was issued; empty on success.' })
  userErrors!: UserErrorObject[];
}

@Resolver()
export class CallTokenResolver {
  @Mutation(() => CreateCallTokenPayload, { description: "A join token for the LiveKit room of a call (like the platform's POST /v1/calls/token)." })
  createCallToken(
    @Arg('input', () => CreateCallTokenInput, { description: 'The call and the participant.' }) input: CreateCallTokenInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CallTokenResult> {
    return ctx.tokens.create(input);
  }
}
