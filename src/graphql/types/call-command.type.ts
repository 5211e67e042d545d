import { Field, ID, Int, ObjectType } from 'type-graphql';
import { CallLeg, Channel } from '../../domain/call.js';
import { CallCommandStatus, CallCommandType, RecordingFormat, RecordingKind, RecordingStatus, RejectReason } from '../../domain/command-rules.js';
import { DateTimeScalar } from './scalars.js';
import { CallObject } from './call.type.js';
import { UserErrorObject } from './user-error.type.js';
import './enums.js';

@ObjectType('CallCommandArguments', {
  description:
    "What the command was given, as the mutation took it (a format left out is the one the call records in). Each field belongs to one command's input, null for the others.",
  simpleResolvers: true,
})
export class CallCommandArgumentsObject {
  @Field(() => RejectReason, { nullable: true, description: 'rejectCall: BUSY or DECLINED.' })
  reason!: RejectReason | null;

  @Field(() => String, { nullable: true, description: "holdCall: the music played to the held party; null: the provider's default." })
  musicUrl!: string | null;

  @Field(() => CallLeg, { nullable: true, description: 'muteCall, unmuteCall: the leg.' })
  leg!: CallLeg | null;

  @Field(() => String, { nullable: true, description: 'transferCall: the new destination.' })
  to!: string | null;

  @Field(() => Channel, { nullable: true, description: "transferCall: the new destination's channel." })
  toChannel!: Channel | null;

  @Field(() => RecordingFormat, { nullable: true, description: 'startRecording: the format recorded.' })
  format!: RecordingFormat | null;

  @Field(() => String, { nullable: true, description: 'sendDtmf: the digits sent.' })
  digits!: string | null;

  @Field(() => Int, { nullable: true, description: "sendDtmf: each digit's tone, in milliseconds." })
  durationMs!: number | null;
}

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
