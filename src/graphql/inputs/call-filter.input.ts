import { Field, InputType, Int } from 'type-graphql';
import { AnsweredBy, CallDirection, CallStatus, Channel, EndReason } from '../../domain/call.js';
import { CallOrderField } from '../../domain/call-store.js';
import { DateTimeScalar, JSONObjectScalar } from '../types/scalars.js';
import { OrderDirection } from '../types/enums.js';

@InputType('DateTimeRange', { description: 'A range of times: from inclusive, to exclusive; either may be left open.' })
export class DateTimeRangeInput {
  @Field(() => DateTimeScalar, { nullable: true, description: 'At or after this time.' })
  from?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Before this time.' })
  to?: Date | null;
}

@InputType('IntRange', { description: 'A range of whole numbers: min and max inclusive; either may be left open.' })
export class IntRangeInput {
  @Field(() => Int, { nullable: true, description: 'At least this.' })
  min?: number | null;

  @Field(() => Int, { nullable: true, description: 'At most this.' })
  max?: number | null;
}

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

  @Field(() => DateTimeRangeInput, { nullable: true, description: 'Calls that first rang in this range (calls that never rang do not match).' })
  startedAt?: DateTimeRangeInput | null;

  @Field(() => DateTimeRangeInput, { nullable: true, description: 'Calls answered in this range (unanswered calls do not match).' })
  answeredAt?: DateTimeRangeInput | null;

  @Field(() => DateTimeRangeInput, { nullable: true, description: 'Calls that ended in this range (live calls do not match).' })
  endedAt?: DateTimeRangeInput | null;

  @Field(() => [EndReason], { nullable: true, description: 'Calls that ended for any of these reasons (at most 16).' })
  endReason?: EndReason[] | null;

  @Field(() => IntRangeInput, { nullable: true, description: 'Calls whose duration in seconds is in this range (live calls do not match).' })
  duration?: IntRangeInput | null;

  @Field(() => [AnsweredBy], { nullable: true, description: 'Calls machine detection found answered by any of these (calls without detection do not match).' })
  answeredBy?: AnsweredBy[] | null;
}

@InputType('CallOrder', { description: 'Order of a call listing.' })
export class CallOrderInput {
  @Field(() => CallOrderField, { description: 'The field to order by.' })
  field!: CallOrderField;

  @Field(() => OrderDirection, { description: 'ASC: smallest (oldest) first; DESC: largest (newest) first.' })
  direction!: OrderDirection;
}
