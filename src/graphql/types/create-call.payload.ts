import { Field, ObjectType } from 'type-graphql';
import { CallObject } from './call.type.js';
import { UserErrorObject } from './user-error.type.js';

@ObjectType('CreateCallPayload', { description: 'Result of createCall.', simpleResolvers: true })
export class CreateCallPayload {
  @Field(() => CallObject, {
    nullable: true,
    description:
      'The call; null when userErrors refused it. When the provider refused it (PROVIDER_ERROR) the call is stored and FAILED, and returned with the error.',
  })
  call!: CallObject | null;

  @Field(() => [UserErrorObject], { description: 'Why the call was not created; empty on success.' })
  userErrors!: UserErrorObject[];

  @Field(() => Boolean, { description: 'true when an earlier call with the same idempotency key and input was returned.' })
  replayed!: boolean;
}
