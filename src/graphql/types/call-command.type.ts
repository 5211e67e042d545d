import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CallCommandStatus, CallCommandType, RecordingFormat, RecordingKind, RecordingStatus } from '../../domain/command-rules.js';
import { DateTimeScalar } from './scalars.js';
import { CallObject } from './call.type.js';
import { UserErrorObject } from './user-error.type.js';
import './enums.js';

@ObjectType('CallCommand', { description: 'A command given to a call (hold, transfer, recording …) and what became of it.', simpleResolvers: true })
export class CallCommandObject {
  @Field(() => ID, { description: '`cmd_<KSUID>`.' })
  id!: string;

  @Field(() => CallCommandType, { description: 'What the command does.' })
  type!: CallCommandType;

  @Field(() => CallCommandStatus, { description: 'ACCEPTED until the provider confirms it (APPLIED) or refuses it (FAILED).' })
  status!: CallCommandStatus;

  @Field(() => String, { nullable: true, description: "Why it FAILED (the provider's message); null otherwise." })
  error!: string | null;

  @Field(() => DateTimeScalar, { description: 'When it was accepted.' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: 'When its status last changed.' })
  updatedAt!: Date;
}

@ObjectType('Recording', { description: 'A recording of a call.', simpleResolvers: true })
export class RecordingObject {
  @Field(() => ID, { description: '`rec_<KSUID>`.' })
  id!: string;

  @Field(() => RecordingKind, { description: 'CALL (startRecording) or VOICEMAIL (the message a caller left after sendToVoicemail).' })
  kind!: RecordingKind;

  @Field(() => RecordingFormat, { description: 'File container.' })
  format!: RecordingFormat;

  @Field(() => RecordingStatus, { description: 'RECORDING, then PROCESSING once stopped, then SAVED (or FAILED).' })
  status!: RecordingStatus;

  @Field(() => Int, { nullable: true, description: 'Length in seconds; null until saved.' })
  duration!: number | null;

  @Field(() => DateTimeScalar, { description: 'When recording started.' })
  createdAt!: Date;
}

@ObjectType('SimulateDtmfPayload', { description: 'Result of simulateDtmf.', simpleResolvers: true })
export class SimulateDtmfPayload {
  @Field(() => CallObject, { nullable: true, description: 'The call as it is now; null when refused.' })
  call!: CallObject | null;

  @Field(() => [UserErrorObject], { description: 'Why it was refused; empty when the DTMF_RECEIVED event was written.' })
  userErrors!: UserErrorObject[];
}

@ObjectType('CallCommandPayload', { description: 'Result of a call command.', simpleResolvers: true })
export class CallCommandPayload {
  @Field(() => CallObject, { nullable: true, description: 'The call as it is now; null when it is not found.' })
  call!: CallObject | null;

  @Field(() => CallCommandObject, { nullable: true, description: 'The stored command; null when userErrors refused it before it was stored.' })
  command!: CallCommandObject | null;

  @Field(() => [UserErrorObject], { description: 'Why the command was refused; empty when it was accepted.' })
  userErrors!: UserErrorObject[];
}
