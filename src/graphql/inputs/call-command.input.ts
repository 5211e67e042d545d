import { Field, ID, InputType, Int } from 'type-graphql';
import { CallLeg, Channel } from '../../domain/call.js';
import { DTMF_DURATION_MS, RecordingFormat, RejectReason } from '../../domain/command-rules.js';
import { JSONObjectScalar } from '../types/scalars.js';
import '../types/enums.js';

@InputType('CallIdInput', { description: 'The call a command applies to.' })
export class CallIdInput {
  @Field(() => ID, { description: "The call's id." })
  callId!: string;
}

@InputType('HoldCallInput', { description: 'Put a call in progress on hold.' })
export class HoldCallInput extends CallIdInput {
  @Field(() => String, { nullable: true, description: "An https:// URL of audio played to the held party, looped; default: the provider's hold music." })
  musicUrl?: string | null;
}

@InputType('MuteCallInput', { description: 'Mute or unmute one leg of a call in progress.' })
export class MuteCallInput extends CallIdInput {
  @Field(() => CallLeg, { defaultValue: CallLeg.FROM, description: 'Which side to mute: FROM (the caller, default) or TO (the called party).' })
  leg!: CallLeg;
}

@InputType('SendDtmfInput', { description: 'Keys to play to a call in progress.' })
export class SendDtmfInput extends CallIdInput {
  @Field(() => String, { description: 'Up to 64 of 0-9, A-D, * and #; w pauses 0.5 s and W 1 s between them.' })
  digits!: string;

  @Field(() => Int, {
    defaultValue: DTMF_DURATION_MS.default,
    description: `Milliseconds of tone per digit (${DTMF_DURATION_MS.min} to ${DTMF_DURATION_MS.max}).`,
  })
  duration!: number;
}

@InputType('SimulateDtmfInput', { description: 'Keys a party of a test call presses.' })
export class SimulateDtmfInput extends CallIdInput {
  @Field(() => String, { description: 'Up to 64 of 0-9, A-D, * and #.' })
  digits!: string;
}

@InputType('TransferCallInput', { description: 'Hand a call in progress to another address.' })
export class TransferCallInput extends CallIdInput {
  @Field(() => String, { description: 'E.164 for PSTN and WhatsApp; a client identity for WebRTC.' })
  to!: string;

  @Field(() => Channel, { defaultValue: Channel.PSTN, description: 'Channel of the new destination.' })
  toChannel!: Channel;
}

@InputType('StartRecordingInput', { description: 'Record an answered call.' })
export class StartRecordingInput extends CallIdInput {
  @Field(() => RecordingFormat, {
    nullable: true,
    description:
      'File container of the recording. PSTN to PSTN calls (Telnyx Call Control) record MP3 (the default) or WAV; calls in a LiveKit room (every other pair, and a PSTN call transferred into a room) OGG (the default), MP4 or MP3. Another format is COMMAND_NOT_ALLOWED, test calls included.',
  })
  format!: RecordingFormat | null;
}

@InputType('RejectCallInput', { description: 'Refuse a ringing inbound call.' })
export class RejectCallInput extends CallIdInput {
  @Field(() => RejectReason, {
    defaultValue: RejectReason.DECLINED,
    description: 'How the call ends: BUSY with endReason BUSY (reason BUSY) or REJECTED (DECLINED, the default).',
  })
  reason!: RejectReason;
}

@InputType('SimulateInboundCallInput', { description: "Test mode: a call arriving at one of the application's numbers (or a WebRTC identity)." })
export class SimulateInboundCallInput {
  @Field(() => String, { description: 'The caller: E.164 for PSTN and WhatsApp, a client identity for WebRTC.' })
  from!: string;

  @Field(() => String, { description: 'A number assigned to the application (PSTN, WhatsApp), or a client identity (WebRTC).' })
  to!: string;

  @Field(() => Channel, { defaultValue: Channel.PSTN, description: 'Channel of the caller.' })
  fromChannel!: Channel;

  @Field(() => Channel, { defaultValue: Channel.PSTN, description: 'Channel the call arrives on.' })
  toChannel!: Channel;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'Custom key/values for the call.' })
  metadata?: Record<string, unknown> | null;
}
