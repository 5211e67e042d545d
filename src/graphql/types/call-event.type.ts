import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CallStatus } from '../../domain/call.js';
import { DateTimeScalar } from './scalars.js';
import { Connection } from './connection.js';
import './enums.js';

@ObjectType('CallEvent', { description: 'One status transition of a call, from its event log.', simpleResolvers: true })
export class CallEventType {
  @Field(() => ID, { description: 'Unique id of the event (`evt_<KSUID>`).' })
  id!: string;

  @Field(() => Int, { description: '1, 2, 3 … per call, with no gaps.' })
  sequence!: number;

  @Field(() => CallStatus, { description: 'The status the call moved to.' })
  status!: CallStatus;

  @Field(() => CallStatus, { nullable: true, description: 'The status it moved from; null for the first event.' })
  previousStatus!: CallStatus | null;

  @Field(() => DateTimeScalar, { description: 'When the transition happened.' })
  occurredAt!: Date;
}

@ObjectType('CallEventConnection', { description: 'A page of a call\'s events, oldest first.', simpleResolvers: true })
export class CallEventConnectionType extends Connection('CallEvent', CallEventType, 'A page of call events.') {}
