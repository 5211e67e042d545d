import { CallDirection, CallLeg, CallStatus, Channel, EndReason, RecordingFormat, type Call } from './call.js';
import { isTerminal } from './call-status-rules.js';
import { UserErrorCode, userError, type UserError } from './errors.js';
import { validateAddress } from './addresses.js';

/**
 * Call commands (the platform's `POST /v1/calls/{id}/commands`): what each one needs, when it
 * applies, and what it changes. Pure: no I/O.
 */
export enum CallCommandType {
  ANSWER = 'answer',
  REJECT = 'reject',
  HANGUP = 'hangup',
  HOLD = 'hold',
  UNHOLD = 'unhold',
  MUTE = 'mute',
  UNMUTE = 'unmute',
  TRANSFER = 'transfer',
  SEND_DTMF = 'send_dtmf',
  START_RECORDING = 'start_recording',
  STOP_RECORDING = 'stop_recording',
  SEND_TO_VOICEMAIL = 'send_to_voicemail',
}

export enum CallCommandStatus {
  /** Stored and handed to the provider; its effect is not on the call yet. */
  ACCEPTED = 'accepted',
  /** Reserved by the contract for commands waiting behind another; this gateway sends each at once. */
  QUEUED = 'queued',
  /** The provider confirmed it; its effect is on the call. */
  APPLIED = 'applied',
  /** The provider refused it, or the call moved on before it could apply. */
  FAILED = 'failed',
}

/** Commands not yet applied or failed: at most one of a type per call (a unique index). */
export const PENDING_COMMAND_STATUSES: readonly CallCommandStatus[] = [CallCommandStatus.ACCEPTED, CallCommandStatus.QUEUED];

/** Commands that are done: retention may remove them. */
export const SETTLED_COMMAND_STATUSES: readonly CallCommandStatus[] = [CallCommandStatus.APPLIED, CallCommandStatus.FAILED];

export { RecordingFormat };

/**
 * What a call can be recorded in, by where its media flows; the first is the default of
 * startRecording. One table for every provider, the simulator included (a test call is refused
 * what its live twin would be):
 * - PSTN to PSTN stays on Telnyx Call Control, whose record_start writes MP3 or WAV;
 * - every other pair meets in a LiveKit room (`roomName`), whose room composite egress writes
 *   OGG, MP4 or MP3.
 * WEBM (in the contract) is recorded by neither today, so it is always refused.
 */
export const RECORDING_FORMATS = {
  callControl: [RecordingFormat.MP3, RecordingFormat.WAV],
  room: [RecordingFormat.OGG, RecordingFormat.MP4, RecordingFormat.MP3],
} as const satisfies Record<string, readonly RecordingFormat[]>;

/** The formats this call can be recorded in, its default first. */
function recordingFormatsOf(call: Pick<Call, 'roomName'>): readonly RecordingFormat[] {
  return call.roomName === null ? RECORDING_FORMATS.callControl : RECORDING_FORMATS.room;
}

/** The format a startRecording records in: the one asked for, else the call's default. */
export function recordingFormatFor(args: { format: RecordingFormat | null }, call: Pick<Call, 'roomName'>): RecordingFormat {
  return args.format ?? recordingFormatsOf(call)[0]!;
}

export enum RejectReason {
  /** Ends the call BUSY (endReason "busy"), as a busy line would. */
  BUSY = 'busy',
  /**
   * Ends the call BUSY (endReason "rejected"). One rule for every provider: a call the called
   * side declines ends BUSY "rejected", as Telnyx (call_rejected) and WhatsApp (REJECTED) report
   * it; CANCELED is only for the calling side ending it before answer.
   */
  DECLINED = 'declined',
}

export type CommandArgs =
  | { type: CallCommandType.ANSWER }
  | { type: CallCommandType.REJECT; reason: RejectReason }
  | { type: CallCommandType.HANGUP }
  | { type: CallCommandType.HOLD; musicUrl: string | null }
  | { type: CallCommandType.UNHOLD }
  | { type: CallCommandType.MUTE; leg: CallLeg }
  | { type: CallCommandType.UNMUTE; leg: CallLeg }
  | { type: CallCommandType.TRANSFER; to: string; toChannel: Channel }
  /** format null: the call's default (recordingFormatsOf); the service fills it in before storing the command. */
  | { type: CallCommandType.START_RECORDING; format: RecordingFormat | null }
  | { type: CallCommandType.STOP_RECORDING }
  | { type: CallCommandType.SEND_TO_VOICEMAIL }
  /** durationMs: each digit's tone. */
  | { type: CallCommandType.SEND_DTMF; digits: string; durationMs: number };

export interface CallCommand {
  id: string;
  callId: string;
  type: CallCommandType;
  status: CallCommandStatus;
  args: CommandArgs;
  /** Why it failed (the provider's message), else null. */
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Why a recording exists: a startRecording of the call, or a message left by sendToVoicemail. */
export enum RecordingKind {
  CALL = 'call',
  VOICEMAIL = 'voicemail',
}

export enum RecordingStatus {
  RECORDING = 'recording',
  /** Stopped; the provider is saving the file. */
  PROCESSING = 'processing',
  SAVED = 'saved',
  FAILED = 'failed',
}

/** A recording still in the provider's hands: being made, or being saved. */
export const UNSAVED_RECORDING_STATUSES: readonly RecordingStatus[] = [RecordingStatus.RECORDING, RecordingStatus.PROCESSING];

export interface Recording {
  id: string;
  callId: string;
  kind: RecordingKind;
  format: RecordingFormat;
  status: RecordingStatus;
  /** Seconds; null until saved. */
  duration: number | null;
  /**
   * Where the provider keeps the file, when that link does not expire; null until saved, and for
   * a provider whose links expire (Telnyx's recording_urls last 10 minutes): the API serves the
   * file through the gateway (GET /recordings/{id}), which asks the provider for a fresh link.
   */
  url: string | null;
  /** The provider's reference for the recording (LiveKit's egress id; Telnyx's recording_started_at). */
  providerRef: string | null;
  createdAt: Date;
}

/** Statuses in which a command may be given; anything else is COMMAND_NOT_ALLOWED. */
const WHEN: Record<CallCommandType, { statuses: readonly CallStatus[]; inboundOnly?: boolean; describe: string }> = {
  [CallCommandType.ANSWER]: { statuses: [CallStatus.RINGING], inboundOnly: true, describe: 'an inbound call while it rings' },
  [CallCommandType.REJECT]: { statuses: [CallStatus.RINGING], inboundOnly: true, describe: 'an inbound call while it rings' },
  [CallCommandType.HANGUP]: {
    statuses: [CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL],
    describe: 'a call that has not ended',
  },
  [CallCommandType.HOLD]: { statuses: [CallStatus.IN_PROGRESS], describe: 'a call in progress that is not on hold' },
  [CallCommandType.UNHOLD]: { statuses: [CallStatus.IN_PROGRESS], describe: 'a call on hold' },
  [CallCommandType.MUTE]: { statuses: [CallStatus.IN_PROGRESS], describe: 'a call in progress whose leg is not muted' },
  [CallCommandType.UNMUTE]: { statuses: [CallStatus.IN_PROGRESS], describe: 'a call in progress whose leg is muted' },
  [CallCommandType.TRANSFER]: { statuses: [CallStatus.IN_PROGRESS], describe: 'a call in progress' },
  [CallCommandType.SEND_DTMF]: { statuses: [CallStatus.IN_PROGRESS], describe: 'a call in progress' },
  [CallCommandType.START_RECORDING]: { statuses: [CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL], describe: 'an answered call that is not being recorded' },
  [CallCommandType.STOP_RECORDING]: { statuses: [CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL], describe: 'a call being recorded' },
  [CallCommandType.SEND_TO_VOICEMAIL]: {
    statuses: [CallStatus.RINGING, CallStatus.IN_PROGRESS],
    describe: 'a call in progress, or an inbound call while it rings',
  },
};

/** The statuses a command may be accepted in (the store re-checks them atomically). */
export function statusesFor(type: CallCommandType): readonly CallStatus[] {
  return WHEN[type].statuses;
}

/**
 * Whether a command applies to a call in its current state. CALL_NOT_ACTIVE when the call has
 * ended (nothing applies any more); COMMAND_NOT_ALLOWED when it does not apply in this state or
 * direction. null: the command may go to the provider.
 */
export function commandProblem(args: CommandArgs, call: Call): UserError | null {
  const name = commandName(args.type);
  if (isTerminal(call.status)) {
    return userError(UserErrorCode.CALL_NOT_ACTIVE, ['input', 'callId'], `The call has ended (${call.status.toUpperCase()}); ${name} no longer applies`);
  }
  const rule = WHEN[args.type];
  const notAllowed = (why: string) => userError(UserErrorCode.COMMAND_NOT_ALLOWED, ['input', 'callId'], `${name} applies only to ${rule.describe}; ${why}`);
  if (rule.inboundOnly && call.direction !== CallDirection.INBOUND) return notAllowed('this call is outbound');
  if (args.type === CallCommandType.SEND_TO_VOICEMAIL && call.status === CallStatus.RINGING && call.direction !== CallDirection.INBOUND) {
    return notAllowed('this outbound call is still ringing');
  }
  if (!rule.statuses.includes(call.status)) return notAllowed(`the call is ${call.status.toUpperCase()}`);
  switch (args.type) {
    case CallCommandType.HOLD:
      return call.onHold ? notAllowed('it is already on hold') : null;
    case CallCommandType.UNHOLD:
      return call.onHold ? null : notAllowed('it is not on hold');
    case CallCommandType.MUTE:
      return call.mutedLegs.includes(args.leg) ? notAllowed(`its ${args.leg.toUpperCase()} leg is already muted`) : null;
    case CallCommandType.UNMUTE:
      return call.mutedLegs.includes(args.leg) ? null : notAllowed(`its ${args.leg.toUpperCase()} leg is not muted`);
    case CallCommandType.START_RECORDING: {
      if (call.recordingId !== null) return notAllowed('it is already being recorded');
      return recordingFormatProblem(args.format, call, ['input', 'format']);
    }
    case CallCommandType.STOP_RECORDING:
      return call.recordingId !== null ? null : notAllowed('it is not being recorded');
    case CallCommandType.SEND_TO_VOICEMAIL:
      // The message is a recording of its own, and a call records one thing at a time: accepted
      // now, the voicemail could never start recording and the call would wait in VOICEMAIL.
      return call.recordingId !== null ? notAllowed('it is being recorded: stopRecording first (the message is recorded on its own)') : null;
    default:
      return null;
  }
}

/** A format the call's provider does not record (startRecording, createCall's recordFromAnswer): COMMAND_NOT_ALLOWED on `field`, with the formats it can use. */
export function recordingFormatProblem(format: RecordingFormat | null, call: Pick<Call, 'roomName'>, field: string[]): UserError | null {
  const formats = recordingFormatsOf(call);
  if (format === null || formats.includes(format)) return null;
  const where = call.roomName === null ? 'a PSTN to PSTN call (Telnyx Call Control)' : 'a call in a LiveKit room';
  return userError(UserErrorCode.COMMAND_NOT_ALLOWED, field, `${where} records ${orList(formats.map((f) => f.toUpperCase()))}, not ${format.toUpperCase()}`);
}

/** Input problems that need no database: every one is reported, with its field path. */
export function argsProblems(args: CommandArgs): UserError[] {
  const errors: UserError[] = [];
  if (args.type === CallCommandType.HOLD && args.musicUrl !== null) {
    if (!isHttpsUrl(args.musicUrl)) {
      errors.push(userError(UserErrorCode.INVALID_ADDRESS, ['input', 'musicUrl'], 'musicUrl must be an https:// URL of at most 2048 characters'));
    }
  }
  if (args.type === CallCommandType.TRANSFER) {
    const problem = validateAddress(args.to, args.toChannel, ['input', 'to']);
    if (problem) errors.push(problem);
  }
  if (args.type === CallCommandType.SEND_DTMF) {
    if (!DTMF_DIGITS.test(args.digits)) {
      errors.push(
        userError(
          UserErrorCode.INVALID_ARGUMENT,
          ['input', 'digits'],
          'digits are 1 to 64 of 0-9, A-D, * and #, with w (a 0.5 s pause) and W (1 s) between them',
        ),
      );
    }
    if (!Number.isInteger(args.durationMs) || args.durationMs < DTMF_DURATION_MS.min || args.durationMs > DTMF_DURATION_MS.max) {
      errors.push(
        userError(
          UserErrorCode.INVALID_ARGUMENT,
          ['input', 'duration'],
          `duration is ${DTMF_DURATION_MS.min} to ${DTMF_DURATION_MS.max} ms per digit, got ${args.durationMs}`,
        ),
      );
    }
  }
  return errors;
}

/** Keypad digits and Telnyx's pauses (w: 0.5 s, W: 1 s), as Call Control's send_dtmf takes them. */
const DTMF_DIGITS = /^[0-9A-D*#wW]{1,64}$/;
/** Telnyx's duration_millis range; the default is 250. */
export const DTMF_DURATION_MS = { min: 100, max: 500, default: 250 } as const;

/** ["A", "B", "C"] → "A, B or C". */
function orList(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function isHttpsUrl(value: string): boolean {
  if (value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname.length > 0 && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** The GraphQL mutation's name, for messages (e.g. "holdCall"). */
export function commandName(type: CallCommandType): string {
  return {
    [CallCommandType.ANSWER]: 'answerCall',
    [CallCommandType.REJECT]: 'rejectCall',
    [CallCommandType.HANGUP]: 'hangupCall',
    [CallCommandType.HOLD]: 'holdCall',
    [CallCommandType.UNHOLD]: 'unholdCall',
    [CallCommandType.MUTE]: 'muteCall',
    [CallCommandType.UNMUTE]: 'unmuteCall',
    [CallCommandType.TRANSFER]: 'transferCall',
    [CallCommandType.SEND_DTMF]: 'sendDtmf',
    [CallCommandType.START_RECORDING]: 'startRecording',
    [CallCommandType.STOP_RECORDING]: 'stopRecording',
    [CallCommandType.SEND_TO_VOICEMAIL]: 'sendToVoicemail',
  }[type];
}

/**
 * The status a status-changing command moves the call to, given the status it is in when the
 * provider confirms; null for commands that change a flag, not the status.
 */
export function commandTransition(
  args: CommandArgs,
  call: { status: CallStatus; direction: CallDirection },
): { status: CallStatus; endReason: EndReason | null } | null {
  const current = call.status;
  switch (args.type) {
    case CallCommandType.ANSWER:
      return { status: CallStatus.IN_PROGRESS, endReason: null };
    case CallCommandType.REJECT:
      return { status: CallStatus.BUSY, endReason: args.reason === RejectReason.BUSY ? EndReason.BUSY : EndReason.REJECTED };
    case CallCommandType.HANGUP:
      // Once answered: COMPLETED ("hangup"). Before: the rule for unanswered endings (README, the
      // lifecycle): the application placed an outbound call, so its hangup is the calling side's,
      // CANCELED; an inbound call it hangs up while it rings is declined by the called side, as
      // rejectCall(DECLINED) is: BUSY "rejected".
      if (current !== CallStatus.INITIATED && current !== CallStatus.RINGING)
        return { status: CallStatus.COMPLETED, endReason: current === CallStatus.VOICEMAIL ? EndReason.VOICEMAIL : EndReason.HANGUP };
      return call.direction === CallDirection.INBOUND
        ? { status: CallStatus.BUSY, endReason: EndReason.REJECTED }
        : { status: CallStatus.CANCELED, endReason: EndReason.HANGUP };
    case CallCommandType.SEND_TO_VOICEMAIL:
      return { status: CallStatus.VOICEMAIL, endReason: null };
    default:
      return null;
  }
}
