import { Field, ID, Int, ObjectType } from 'type-graphql';
import { AnsweredBy, CallDirection, CallLeg, CallStatus, Channel, EndReason, HangupSource, MachineDetection, type CallOptions } from '../../domain/call.js';
import { RecordingFormat } from '../../domain/command-rules.js';
import { DateTimeScalar, JSONObjectScalar } from './scalars.js';
import { NodeInterface } from './node.interface.js';
import { Connection } from './connection.js';

@ObjectType('CallOptions', { description: "createCall's options as given (null: not given, the provider's default applies).", simpleResolvers: true })
class CallOptionsObject {
  @Field(() => Int, { nullable: true, description: 'Seconds of ringing before NO_ANSWER.' })
  ringTimeout?: number;

  @Field(() => Int, { nullable: true, description: 'Longest duration once answered, in seconds; then COMPLETED (endReason TIME_LIMIT).' })
  timeLimit?: number;

  @Field(() => String, { nullable: true, description: 'Display name shown to the called party.' })
  callerName?: string;

  @Field(() => MachineDetection, { nullable: true, description: 'Answering-machine detection.' })
  machineDetection?: MachineDetection;

  @Field(() => RecordingFormat, { nullable: true, description: 'Recording started when the call was answered, in this format.' })
  recordFromAnswer?: RecordingFormat;

  @Field(() => String, { nullable: true, description: "This call's own webhook." })
  statusCallbackUrl?: string;
}

/** The API view of a call. Resolvers pass the domain's `Call` objects; fields map one to one. */
// simpleResolvers: plain properties need no type-graphql wrapper (there are no middlewares).
@ObjectType('Call', { implements: NodeInterface, description: 'A voice call between two addresses on PSTN, WebRTC or WhatsApp.', simpleResolvers: true })
export class CallObject extends NodeInterface {
  @Field(() => ID, { description: '`call_<KSUID>`, or `call_test_<KSUID>` for a call made with a test key.' })
  declare id: string;

  @Field(() => ID, { description: 'The application that owns the call.' })
  appId!: string;

  @Field(() => CallDirection, { description: 'OUTBOUND for calls placed with createCall.' })
  direction!: CallDirection;

  @Field(() => CallStatus, { description: 'Current status; see CallStatus for the order.' })
  status!: CallStatus;

  @Field(() => String, { description: 'The calling address: an E.164 number or a WebRTC client identity.' })
  fromAddress!: string;

  @Field(() => String, { description: 'The called address: an E.164 number or a WebRTC client identity.' })
  toAddress!: string;

  @Field(() => Channel, { description: 'Channel of the calling leg.' })
  fromChannel!: Channel;

  @Field(() => Channel, { description: 'Channel of the called leg.' })
  toChannel!: Channel;

  @Field(() => Int, { nullable: true, description: 'Seconds from answer to end (0 if never answered); null until the call ends.' })
  duration!: number | null;

  @Field(() => EndReason, { nullable: true, description: 'Why the call ended (HANGUP, NO_ANSWER, BUSY, VOICEMAIL …); null until it ends.' })
  endReason!: EndReason | null;

  @Field(() => HangupSource, {
    nullable: true,
    description: 'Who ended the call; null until it ends, or when nobody can tell (an answered call on a provider that does not say).',
  })
  hangupSource!: HangupSource | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'The SIP response code of the end (486 busy, 480 no answer, 404 …) where the provider gives one: Telnyx (sip_hangup_cause) and the simulator; null otherwise.',
  })
  sipCode!: number | null;

  @Field(() => JSONObjectScalar, { description: 'Custom key/values given at creation ({} when none), included in webhook payloads.' })
  metadata!: Record<string, unknown>;

  @Field(() => CallOptionsObject, { description: "createCall's options (all null for inbound calls and calls created without them)." })
  options!: CallOptions;

  @Field(() => AnsweredBy, { nullable: true, description: 'What answered the call, when machine detection ran (Telnyx, the simulator); else null.' })
  answeredBy!: AnsweredBy | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The LiveKit room a WebRTC client joins (createCallToken): set when a leg is WebRTC, else null, as the platform documents. Calls between PSTN and WhatsApp (and WhatsApp ↔ WhatsApp) meet in a room too, which is not shown here: createCallToken names it (roomName) for an agent or browser that takes the caller's side.",
  })
  livekitRoomName!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the destination first rang.' })
  startedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the call was answered (by a person or a voicemail box).' })
  answeredAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the call reached a terminal status.' })
  endedAt!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When the call was created.' })
  createdAt!: Date;

  @Field(() => Boolean, { description: 'On hold (holdCall) now.' })
  onHold!: boolean;

  @Field(() => [CallLeg], { description: 'Legs muted now (muteCall); empty when none is.' })
  mutedLegs!: CallLeg[];

  @Field(() => String, { nullable: true, description: 'Where the call was transferred (transferCall), else null.' })
  transferredTo!: string | null;

  @Field(() => Channel, { nullable: true, description: 'Channel of transferredTo.' })
  transferredToChannel!: Channel | null;

  @Field(() => Int, {
    description:
      "The sequence of the call's latest event (1 when created, +1 with each event: CallEvent.sequence). A list followed live: subscribe to callStatus first, read second, then drop the events whose sequence is at or below the row's version — the read already showed them — so each change is applied exactly once.",
  })
  version!: number;
}

@ObjectType('CallConnection', { description: 'A page of calls.', simpleResolvers: true })
export class CallConnectionObject extends Connection('Call', CallObject, 'A page of calls.') {}
