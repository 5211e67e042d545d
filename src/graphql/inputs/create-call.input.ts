import { Field, InputType, Int } from 'type-graphql';
import { Channel, MachineDetection } from '../../domain/call.js';
import { RecordingFormat } from '../../domain/command-rules.js';
import { JSONObjectScalar } from '../types/scalars.js';
import '../types/enums.js';

@InputType('CreateCallInput', { description: 'An outbound call to place.' })
export class CreateCallInput {
  @Field(() => String, {
    description:
      'PSTN: a number assigned to the application (E.164). WHATSAPP: one of its WhatsApp business numbers (PhoneNumber.whatsappPhoneNumberId set), which the WhatsApp user sees calling. WEBRTC: a client identity. Else PHONE_NUMBER_NOT_ASSIGNED.',
  })
  from!: string;

  @Field(() => String, { description: 'E.164 for PSTN and WhatsApp (e.g. +15551234567); a client identity for WebRTC.' })
  to!: string;

  @Field(() => Channel, { nullable: true, defaultValue: Channel.PSTN, description: 'Channel of the calling leg; omitted or null: PSTN.' })
  fromChannel?: Channel | null;

  @Field(() => Channel, { nullable: true, defaultValue: Channel.PSTN, description: 'Channel of the called leg; omitted or null: PSTN.' })
  toChannel?: Channel | null;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'Custom key/values (a JSON object, at most 16 KB serialized), included in webhook payloads.' })
  metadata?: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Same key and same input within 24 h return the same call with replayed: true; the same key with other input fails with IDEMPOTENCY_KEY_REUSED.',
  })
  idempotencyKey?: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'Seconds of ringing (5 to 600) before the call ends NO_ANSWER. Telnyx timeout_secs; LiveKit SIP ringingTimeout (a PSTN callee in a room); the simulator. Refused for WebRTC and WhatsApp callees.',
  })
  ringTimeout?: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'Longest duration once answered (30 to 14400 s); then COMPLETED with endReason TIME_LIMIT. Telnyx time_limit_secs; LiveKit SIP maxCallDuration; the simulator. Refused for WebRTC and WhatsApp callees.',
  })
  timeLimit?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Display name shown to the called party (1 to 64 characters). Telnyx from_display_name; LiveKit SIP displayName; the simulator. Refused for WebRTC and WhatsApp callees (WhatsApp shows the business profile).',
  })
  callerName?: string | null;

  @Field(() => MachineDetection, {
    nullable: true,
    description:
      'Answering-machine detection; the result is Call.answeredBy. Telnyx and the simulator; refused for calls in a LiveKit room. Unset: Telnyx and the simulator detect (VOICEMAIL is reported).',
  })
  machineDetection?: MachineDetection | null;

  @Field(() => RecordingFormat, {
    nullable: true,
    description: "Start recording when the call is answered, in this format (one the call's provider records: startRecording's rules). Every provider.",
  })
  recordFromAnswer?: RecordingFormat | null;

  @Field(() => String, {
    nullable: true,
    description:
      "A webhook of this call alone: every event of the call is POSTed there (Standard Webhooks, as endpoints' deliveries, with the same retries), signed with the application's status-callback secret (rotateStatusCallbackSecret, shown once). Checked as an endpoint's URL (no private address); every provider.",
  })
  statusCallbackUrl?: string | null;
}
