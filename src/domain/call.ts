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

/** A key's mode: test keys see only test calls, live keys only live calls. */
export type Mode = 'test' | 'live';
export const MODES: readonly Mode[] = ['test', 'live'];

/** The tenant every read and write is scoped to. */
export interface Tenant {
  readonly appId: string;
  readonly mode: Mode;
}

export type Metadata = Record<string, unknown>;

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
  endReason: string | null;
  metadata: Metadata;
  livekitRoomName: string | null;
  startedAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  createdAt: Date;
}

export interface CallEvent {
  id: string;
  callId: string;
  sequence: number;
  status: CallStatus;
  previousStatus: CallStatus | null;
  occurredAt: Date;
  /** Position in the log (1, 2, 3 … in commit order); null until the sequencer numbers it. */
  position: string | null;
}

/** Channels whose addresses are phone numbers (E.164). */
export function isPhoneChannel(channel: Channel): boolean {
  return channel === Channel.PSTN || channel === Channel.WHATSAPP;
}

/** A call with a WebRTC leg gets a LiveKit room, named after the call. */
export function livekitRoomFor(callId: string, from: Channel, to: Channel): string | null {
  return from === Channel.WEBRTC || to === Channel.WEBRTC ? callId : null;
}
