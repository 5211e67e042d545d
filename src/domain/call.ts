/**
 * The call as the domain knows it: no GraphQL, HTTP or provider types here.
 * Enum values are the names stored in the database; the GraphQL layer exposes the keys.
 */
export enum Channel {
  PSTN = 'pstn',
  WEBRTC = 'webrtc',
  WHATSAPP = 'whatsapp',
}

export enum CallDirection {
  OUTBOUND = 'outbound',
  INBOUND = 'inbound',
}

export enum CallStatus {
  INITIATED = 'initiated',
  RINGING = 'ringing',
  IN_PROGRESS = 'in_progress',
  VOICEMAIL = 'voicemail',
  COMPLETED = 'completed',
  FAILED = 'failed',
  BUSY = 'busy',
  NO_ANSWER = 'no_answer',
  CANCELED = 'canceled',
}

/**
 * Why a call ended. The values are the strings `endReason` carried before it was an enum, kept
 * as they were (in the API too), so clients that compared strings keep working.
 */
export enum EndReason {
  /** A party hung up after answer (or the caller before it: CANCELED). */
  HANGUP = 'hangup',
  BUSY = 'busy',
  /** The called party declined (rejectCall DECLINED, a declined WhatsApp call, Telnyx call_rejected). */
  REJECTED = 'rejected',
  NO_ANSWER = 'no_answer',
  CANCELED = 'canceled',
  /** A voicemail box took the call and it ended. */
  VOICEMAIL = 'voicemail',
  FAILED = 'failed',
  /** The number does not exist (Telnyx not_found, SIP 404). */
  NOT_FOUND = 'not_found',
  /** The provider gave no news within CALL_SETUP_TIMEOUT_MS. */
  PROVIDER_TIMEOUT = 'provider_timeout',
  /** The provider refused to place the call. */
  PROVIDER_ERROR = 'provider_error',
  /** The call reached its timeLimit. */
  TIME_LIMIT = 'time_limit',
}

/** Who ended a call. */
export enum HangupSource {
  /** The calling party (`from`). */
  CALLER = 'caller',
  /** The called party (`to`). */
  CALLEE = 'callee',
  /** The application, with a command (hangupCall, rejectCall). */
  API = 'api',
  /** The network or the gateway: a ring timeout, a time limit, a failure. */
  SYSTEM = 'system',
}

/** Formats a recording can be saved in (defined here for CallOptions; command-rules.ts has the rules and re-exports it). */
export enum RecordingFormat {
  MP4 = 'mp4',
  OGG = 'ogg',
  WEBM = 'webm',
  /** Added to the contract: what Telnyx Call Control records (PSTN to PSTN calls). */
  MP3 = 'mp3',
  WAV = 'wav',
}

/** Answering-machine detection asked for with createCall. */
export enum MachineDetection {
  OFF = 'off',
  /** Tell a person from a machine as soon as the provider can. */
  DETECT = 'detect',
  /** … and, for a machine, report VOICEMAIL once its greeting ended (the beep): a message left then is heard whole. */
  DETECT_BEEP = 'detect_beep',
}

/** What answered the call, when machine detection ran. */
export enum AnsweredBy {
  HUMAN = 'human',
  MACHINE = 'machine',
  FAX = 'fax',
  UNKNOWN = 'unknown',
}

/**
 * createCall's options, stored with the call (only those given). Each is carried out by the
 * provider where the provider can (ChannelProvider.optionRefusals says where it cannot).
 */
export interface CallOptions {
  /** Seconds of ringing before the call ends NO_ANSWER. */
  ringTimeout?: number;
  /** Longest duration in seconds once answered; then COMPLETED with endReason time_limit. */
  timeLimit?: number;
  /** Display name shown to the called party where the channel carries one. */
  callerName?: string;
  /** Unset: the provider's default (Telnyx and the simulator detect, so VOICEMAIL can be reported). */
  machineDetection?: MachineDetection;
  /** Start recording in this format when the call is answered. */
  recordFromAnswer?: RecordingFormat;
  /** A webhook of this call alone: every event of the call, signed with the application's status-callback secret. */
  statusCallbackUrl?: string;
}

/** A key's mode: test keys see only test calls, live keys only live calls. */
export const MODES = ['test', 'live'] as const;
export type Mode = (typeof MODES)[number];

/** The tenant every read and write is scoped to. */
export interface Tenant {
  readonly appId: string;
  readonly mode: Mode;
}

export type Metadata = Record<string, unknown>;

/** The two sides of a call: `from` (the caller) and `to` (the called party). */
export enum CallLeg {
  FROM = 'from',
  TO = 'to',
}

/** What an event of a call's timeline records: a status change, or a command's effect. */
export enum CallEventKind {
  STATUS_CHANGED = 'status_changed',
  HELD = 'held',
  UNHELD = 'unheld',
  MUTED = 'muted',
  UNMUTED = 'unmuted',
  TRANSFERRED = 'transferred',
  RECORDING_STARTED = 'recording_started',
  RECORDING_STOPPED = 'recording_stopped',
  RECORDING_SAVED = 'recording_saved',
  COMMAND_FAILED = 'command_failed',
  /** sendDtmf played its digits to the call (CallEvent.digits). */
  DTMF_SENT = 'dtmf_sent',
  /** A party pressed keys (CallEvent.digits), as the provider reports them. */
  DTMF_RECEIVED = 'dtmf_received',
}

export interface Call {
  id: string;
  appId: string;
  mode: Mode;
  direction: CallDirection;
  status: CallStatus;
  fromAddress: string;
  toAddress: string;
  fromChannel: Channel;
  toChannel: Channel;
  duration: number | null;
  endReason: EndReason | null;
  /** Who ended the call; null until it ends, or when the provider does not say. */
  hangupSource: HangupSource | null;
  /** The SIP response code the provider gave for the end (486 busy, 480 no answer …), when it gives one. */
  sipCode: number | null;
  metadata: Metadata;
  /** createCall's options ({} when none, and for inbound calls). */
  options: CallOptions;
  /** What answered, when machine detection ran; else null. */
  answeredBy: AnsweredBy | null;
  /** The platform's field: the LiveKit room a WebRTC client joins; null unless a leg is WebRTC. */
  livekitRoomName: string | null;
  /** The LiveKit room where the legs meet (any pair but PSTN to PSTN); the providers' own business. */
  roomName: string | null;
  startedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  createdAt: Date;
  /** The provider that carries the call ("simulator", "telnyx", "livekit"); null if none took it. */
  provider: string | null;
  /** The provider's own id for the call (Telnyx call_control_id, WhatsApp call id …). */
  providerCallId: string | null;
  onHold: boolean;
  mutedLegs: CallLeg[];
  /** The recording in progress, if any. */
  recordingId: string | null;
  transferredTo: string | null;
  transferredToChannel: Channel | null;
  /**
   * The sequence of its latest event (1 when created; +1 with each event). A reader that
   * subscribed first and read second drops the events at or below it: the read showed them.
   */
  version: number;
  /**
   * The W3C `traceparent` of the request that created the call, when tracing was on (null
   * otherwise): the parent of every later span about the call, so one trace holds its life.
   */
  traceParent?: string | null;
}

export interface CallEvent {
  id: string;
  callId: string;
  sequence: number;
  status: CallStatus;
  previousStatus: CallStatus | null;
  occurredAt: Date;
  kind: CallEventKind;
  /** The command that caused the event, if one did. */
  commandId: string | null;
  /** DTMF_SENT and DTMF_RECEIVED: the digits; null for other events. */
  digits: string | null;
  /** Position in the log (1, 2, 3 … in commit order); null until the sequencer numbers it. */
  position: string | null;
}

/** Channels whose addresses are phone numbers (E.164). */
export function isPhoneChannel(channel: Channel): boolean {
  return channel === Channel.PSTN || channel === Channel.WHATSAPP;
}

/**
 * Where the legs meet, and what the platform shows of it. Legs meet in a LiveKit room when one of
 * them is WebRTC or WhatsApp (the WhatsApp leg joins through LiveKit's WhatsApp connector, a PSTN
 * leg over SIP); the room is named after the call. PSTN to PSTN calls stay on Telnyx Call Control
 * and have no room. The platform documents `livekitRoomName` for WebRTC calls only: a
 * PSTN–WhatsApp call's room is kept (`roomName`) but not shown there.
 */
export function roomsFor(callId: string, from: Channel, to: Channel): { roomName: string | null; livekitRoomName: string | null } {
  const roomName = from === Channel.PSTN && to === Channel.PSTN ? null : callId;
  return { roomName, livekitRoomName: from === Channel.WEBRTC || to === Channel.WEBRTC ? roomName : null };
}
