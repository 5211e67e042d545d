import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { CallTokenResult } from '../../domain/call-tokens.js';
import type { GatewayContext } from '../context.js';
import { DateTimeScalar } from '../types/scalars.js';
import { UserErrorType } from '../types/user-error.type.js';

@InputType('CreateCallTokenInput', { description: "Who joins which call's LiveKit room, for how long." })
export class CreateCallTokenInput {
  @Field(() => ID, { description: 'A call with a LiveKit room (any call unless both legs are PSTN) that has not ended.' })
  callId!: string;

  @Field(() => String, {
    description: "The participant's identity in the room: 1–128 of A–Z a–z 0–9 _ - . : @ (for the called party of a WebRTC call, its toAddress).",
  })
  participantIdentity!: string;

  @Field(() => String, { nullable: true, description: 'Display name, 1–128 characters.' })
  participantName?: string | null;

  @Field(() => Int, { nullable: true, description: 'Lifetime of the token in seconds, 60 to 86400 (default 3600).' })
  ttl?: number | null;
}

@ObjectType('CreateCallTokenPayload', { description: "A LiveKit join token for one call's room.", simpleResolvers: true })
class CreateCallTokenPayload {
  @Field(() => String, { nullable: true, description: 'The JWT to connect with (LiveKit client SDKs); grants this room only.' })
  token!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the token stops being accepted.' })
  expiresAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The room it grants.' })
  roomName!: string | null;

  @Field(() => String, { nullable: true, description: 'The LiveKit server to connect to (wss://…).' })
  serverUrl!: string | null;

  @Field(() => [UserErrorType], { description: 'Why no token was issued; empty on success.' })
  userErrors!: UserErrorType[];
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
