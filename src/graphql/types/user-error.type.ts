import { Field, ObjectType } from 'type-graphql';
import { UserErrorCode } from '../../domain/errors.js';
import './enums.js';

@ObjectType('UserError', { description: 'An expected failure caused by the input; nothing was changed.', simpleResolvers: true })
export class UserErrorObject {
  @Field(() => [String], { nullable: true, description: 'Path to the input field at fault, e.g. ["input", "to"].' })
  field!: string[] | null;

  @Field(() => String, { description: 'What is wrong, for a developer to read.' })
  message!: string;

  @Field(() => UserErrorCode, { description: 'Machine-readable reason.' })
  code!: UserErrorCode;
}
