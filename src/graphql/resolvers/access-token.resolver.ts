import { Arg, Ctx, Field, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { AccessScope } from '../../domain/access-tokens.js';
import type { UserError } from '../../domain/errors.js';
import type { GatewayContext } from '../context.js';
import { CallFilterInput } from '../inputs/call-filter.input.js';
import { DateTimeScalar } from '../types/scalars.js';
import { UserErrorType } from '../types/user-error.type.js';

@InputType('CreateAccessTokenInput', { description: 'What a browser may do with the token, over which calls, for how long.' })
export class CreateAccessTokenInput {
  @Field(() => [AccessScope], { description: 'At least one scope.' })
  scopes!: AccessScope[];

  @Field(() => CallFilterInput, {
    nullable: true,
    description:
      'ANDed into everything the token reads, subscribes to or creates, e.g. {metadata: {customerId: "c1"}}: a call outside it is not found, as another application\'s. At most 2 KB as JSON.',
  })
  filter?: CallFilterInput | null;

  @Field(() => Int, { nullable: true, description: 'Lifetime in seconds, 60 to 86400 (default 3600).' })
  ttlSeconds?: number | null;
}

@ObjectType('CreateAccessTokenPayload', { description: 'A short-lived access token for a browser.', simpleResolvers: true })
class CreateAccessTokenPayload {
  @Field(() => String, {
    nullable: true,
    description: 'Send as `Authorization: Bearer <token>` over HTTP, or as connectionParams.authorization over WebSocket.',
  })
  token!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the token stops being accepted (open subscriptions end then too).' })
  expiresAt!: Date | null;

  @Field(() => [UserErrorType], { description: 'Why no token was issued; empty on success.' })
  userErrors!: UserError[];
}

@Resolver()
export class AccessTokenResolver {
  @Mutation(() => CreateAccessTokenPayload, {
    description:
      "Secret key only: a signed, short-lived token a backend hands to a browser (as Stripe's ephemeral keys or Twilio's access tokens), limited to its scopes and filter. Revoking the key that minted it ends it.",
  })
  createAccessToken(
    @Arg('input', () => CreateAccessTokenInput, { description: 'Scopes, filter and lifetime.' }) input: CreateAccessTokenInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CreateAccessTokenPayload> {
    return ctx.accessTokens.create(ctx.principal, input);
  }
}
