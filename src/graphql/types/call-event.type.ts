import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CallEventKind, CallStatus } from '../../domain/call.js';
import { DateTimeScalar } from './scalars.js';
import { Connection } from './connection.js';
import './enums.js';

@ObjectType('CallEvent', {
  description: "One entry of a call's timeline, from its event log: a status transition or a command's effect.",
  simpleResolvers: true,
})
export class CallEventObject {
  @Field(() => ID, { description: 'Unique id of the event (`evt_<KSUID>`).' })
  id!: string;

  @Field(() => Int, { description: '1, 2, 3 … per call, with no gaps.' })
  sequence!: number;

  @Field(() => CallEventKind, {
    description: 'STATUS_CHANGED for a transition; otherwise the effect of a command (HELD, MUTED, RECORDING_STARTED …), with `status` unchanged.',
  })
  kind!: CallEventKind;

  @Field(() => CallStatus, { description: 'The status the call moved to (its status at the time, for events that are not STATUS_CHANGED).' })
  status!: CallStatus;

  @Field(() => CallStatus, {
    nullable: true,
    description: 'The status it moved from (equal to `status` for events that are not STATUS_CHANGED); null for the first event.',
  })
  previousStatus!: CallStatus | null;

  @Field(() => DateTimeScalar, { description: 'When the transition happened.' })
  occurredAt!: Date;

  @Field(() => String, { nullable: true, description: 'DTMF_SENT and DTMF_RECEIVED: the digits (0-9, A-D, *, #); null for other events.' })
  digits!: string | null;
}

@ObjectType('CallEventConnection', { description: "A page of a call's events, oldest first.", simpleResolvers: true })
export class CallEventConnectionObject extends Connection('CallEvent', CallEventObject, 'A page of call events.') {}
