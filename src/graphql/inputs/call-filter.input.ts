import { Field, InputType } from 'type-graphql';
import { CallDirection, CallStatus, Channel } from '../../domain/call.js';
import { DateTimeScalar, JSONObjectScalar } from '../types/scalars.js';
import { CallOrderField, OrderDirection } from '../types/enums.js';

@InputType('CallFilter', { description: 'Narrows calls; all given fields must match (AND); a list matches any of its values.' })
export class CallFilterInput {
  @Field(() => [CallStatus], { nullable: true, description: 'Calls in any of these statuses.' })
  status?: CallStatus[] | null;

  @Field(() => CallDirection, { nullable: true, description: 'Calls in this direction.' })
  direction?: CallDirection | null;

  @Field(() => [Channel], { nullable: true, description: 'Calls whose calling leg is on any of these channels.' })
  fromChannel?: Channel[] | null;

  @Field(() => [Channel], { nullable: true, description: 'Calls whose called leg is on any of these channels.' })
  toChannel?: Channel[] | null;

  @Field(() => String, { nullable: true, description: 'Calls from exactly this address.' })
  fromAddress?: string | null;

  @Field(() => String, { nullable: true, description: 'Calls to exactly this address.' })
  toAddress?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Calls created at or after this time (inclusive).' })
  createdAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Calls created before this time (exclusive).' })
  createdBefore?: Date | null;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'Calls whose metadata contains all these key/values (JSON containment).' })
  metadata?: Record<string, unknown> | null;
}

@InputType('CallOrder', { description: 'Order of a call listing.' })
export class CallOrderInput {
  @Field(() => CallOrderField, { description: 'The field to order by.' })
  field!: CallOrderField;

  @Field(() => OrderDirection, { description: 'ASC: oldest first; DESC: newest first.' })
  direction!: OrderDirection;
}
