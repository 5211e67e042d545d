import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CallDirection, CallStatus, Channel, EndReason } from '../../domain/call.js';
import { CallStatsGroup } from '../../domain/call-store.js';
import { DateTimeScalar } from './scalars.js';

registerEnumType(CallStatsGroup, {
  name: 'CallStatsGroup',
  description: 'What callStats groups calls by; at most one period (MINUTE, HOUR, DAY: of createdAt, in UTC).',
  valuesConfig: {
    STATUS: { description: 'The current status.' },
    CHANNEL: { description: "The remote party's channel: toChannel of an outbound call, fromChannel of an inbound one." },
    DIRECTION: { description: 'OUTBOUND or INBOUND.' },
    END_REASON: { description: 'endReason (null for calls that have not ended).' },
    MINUTE: { description: 'The minute the call was created (from … to at most 1 day).' },
    HOUR: { description: 'The hour the call was created (at most 31 days).' },
    DAY: { description: 'The day the call was created, UTC (at most 366 days).' },
  },
});

@ObjectType('CallStatsKey', { description: "A group's key: the fields it was grouped by are set, the others null.", simpleResolvers: true })
class CallStatsKeyObject {
  @Field(() => CallStatus, { nullable: true, description: 'STATUS: the status of the calls of this group.' })
  status!: CallStatus | null;

  @Field(() => Channel, { nullable: true, description: "CHANNEL: the remote party's channel." })
  channel!: Channel | null;

  @Field(() => CallDirection, { nullable: true, description: 'DIRECTION.' })
  direction!: CallDirection | null;

  @Field(() => EndReason, { nullable: true, description: 'END_REASON (null also for the calls that have not ended).' })
  endReason!: EndReason | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "The period's start (MINUTE, HOUR or DAY)." })
  period!: Date | null;
}

@ObjectType('CallStatsRow', { description: 'Figures of a group of calls (or of all of them: CallStats.total).', simpleResolvers: true })
class CallStatsRowObject {
  @Field(() => CallStatsKeyObject, { description: "The group's key; all null in CallStats.total." })
  key!: CallStatsKeyObject;

  @Field(() => Int, { description: 'Calls created in the range that match.' })
  count!: number;

  @Field(() => Int, { description: 'Of them, answered (by a person or a machine).' })
  answered!: number;

  @Field(() => Float, { nullable: true, description: 'answered / count; null when count is 0.' })
  answerRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean duration in seconds of the answered calls that ended; null when none did.' })
  averageDuration!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile of that duration (continuous), seconds; null when none ended.' })
  p95Duration!: number | null;
}

@ObjectType('CallStats', { description: 'callStats: every group, and the total over all of them.', simpleResolvers: true })
export class CallStatsObject {
  @Field(() => CallStatsRowObject, { description: 'All matching calls in the range.' })
  total!: CallStatsRowObject;

  @Field(() => [CallStatsRowObject], { description: 'One row per group, ordered by the keys (periods oldest first); groups with no calls are absent.' })
  groups!: CallStatsRowObject[];

  @Field(() => String, {
    nullable: true,
    description:
      'Where these figures stand in the event log, read in the same snapshot: callStatus(after: asOf) (without callId) then delivers every change they do not count, so a dashboard that adds the events it receives to them counts each change exactly once. Skip the events listed in countedAfterAsOf: counted here, numbered in the log just after. null when the log was too far behind to say (over 100 such events): read again.',
  })
  asOf!: string | null;

  @Field(() => [ID], {
    nullable: true,
    description:
      'Events these figures count that the log numbered after asOf (committed, not yet numbered when they were read): skip them on callStatus(after: asOf).',
  })
  countedAfterAsOf!: string[] | null;
}
