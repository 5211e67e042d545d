import { Arg, Ctx, Field, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { UserError } from '../../domain/errors.js';
import type { GatewayContext } from '../context.js';
import { DateTimeScalar } from '../types/scalars.js';
import { UserErrorObject } from '../types/user-error.type.js';
import { CreateAccessTokenInput } from '../inputs/access-token.input.js';

@ObjectType('CreateAccessTokenPayload', { description: 'A short-lived access token for a browser.', simpleResolvers: true })
class CreateAccessTokenPayload {
  @Field(() => String, {
    nullable: true,
    description: 'Send as `Authorization: Bearer <token>` over HTTP, or as connectionParams.authorization over WebSocket.',
  })
  token!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the token stops being accepted (open subscriptions end then too).' })
  expiresAt!: Date | null;

  @Field(() => [UserErrorObject], { description: 'Why no token was issued; empty on success.' })
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
