import Telnyx from 'telnyx';
import { AnsweredBy, CallDirection, CallStatus, EndReason, HangupSource, MachineDetection, type Call } from '../../domain/call.js';
import { RecordingFormat, type RECORDING_FORMATS } from '../../domain/command-rules.js';
import { ProviderError } from '../../domain/channel-provider.js';

/**
 * Pure translations between Telnyx Call Control v2 and the domain: call ids in client_state,
 * hangup causes, machine detection, recordings and errors. The event types are the SDK's own
 * (telnyx/resources/webhooks), so the names and values here are the documented ones.
 */

/** The Call Control webhooks the gateway acts on; every other event_type is acknowledged and ignored. */
export type HandledEvent =
  | Telnyx.CallInitiated
  | Telnyx.CallAnswered
  | Telnyx.CallHangup
  | Telnyx.CallMachineDetectionEnded
  | Telnyx.CallMachinePremiumDetectionEnded
  | Telnyx.CallMachineGreetingEnded
  | Telnyx.CallDtmfReceived
  | Telnyx.CallBridged
  | Telnyx.CallMachinePremiumGreetingEnded
  | Telnyx.CallRecordingSaved
  | Telnyx.CallRecordingError
  | Telnyx.CallSpeakEnded
  | Telnyx.CallPlaybackEnded;

/** Fields every call event carries. */
export interface LegRef {
  call_control_id?: string;
  client_state?: string | null;
}

/** record_start's `format` for each format the domain's table gives PSTN to PSTN calls (the compiler holds them together). */
export const TELNYX_FORMATS: Record<(typeof RECORDING_FORMATS.callControl)[number], 'mp3' | 'wav'> = {
  [RecordingFormat.MP3]: 'mp3',
  [RecordingFormat.WAV]: 'wav',
};

/**
 * Our call id travels as client_state, which Telnyx requires to be base64, with the step of a
 * flow the gateway drives itself (`voicemail`) after a `#`: Telnyx puts the latest client_state
 * on every later event of the leg, so each event says which flow it belongs to.
 */
export function clientState(callId: string, stage?: 'voicemail'): string {
  return Buffer.from(stage ? `${callId}#${stage}` : callId, 'utf8').toString('base64');
}

function decodedState(state: unknown): string | null {
  return typeof state === 'string' && state.length > 0 && state.length <= 200 ? Buffer.from(state, 'base64').toString('utf8') : null;
}

/** The call id a client_state carries; null when there is none (inbound calls before answer). */
export function callIdOf(state: unknown): string | null {
  return decodedState(state)?.split('#')[0] ?? null;
}

/** Whether an event belongs to the voicemail flow of sendToVoicemail. */
export function inVoicemail(state: unknown): boolean {
  return decodedState(state)?.endsWith('#voicemail') ?? false;
}

/** When the event happened at Telnyx; undefined (now) when absent or unreadable. */
export function occurredAt(value: unknown): Date | undefined {
  const time = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(time) ? new Date(time) : undefined;
}

/** What call.hangup says about the end. */
export interface HangupOutcome {
  status: CallStatus;
  endReason: EndReason | null;
  hangupSource: HangupSource | null;
  sipCode: number | null;
}

/**
 * call.hangup → the terminal status. An answered call COMPLETES (a voicemail box keeps its
 * "voicemail" reason); otherwise Telnyx's hangup_cause says why it never connected. hangup_source
 * (caller, callee) and sip_hangup_cause (a SIP code, or "unspecified") are kept as Telnyx gives them;
 * a time limit is the SYSTEM's doing.
 */
export function hangupStatus(call: Call, payload: Telnyx.CallHangup.Payload): HangupOutcome {
  const code = /^[1-6]\d\d$/.test(payload.sip_hangup_cause ?? '') ? Number(payload.sip_hangup_cause) : null;
  const source =
    payload.hangup_cause === 'time_limit'
      ? HangupSource.SYSTEM
      : payload.hangup_source === 'caller'
        ? HangupSource.CALLER
        : payload.hangup_source === 'callee'
          ? HangupSource.CALLEE
          : null;
  const outcome = (status: CallStatus, endReason: EndReason | null): HangupOutcome => ({ status, endReason, hangupSource: source, sipCode: code });
  if (call.status === CallStatus.IN_PROGRESS || call.status === CallStatus.VOICEMAIL) {
    // null lets the lifecycle choose: "voicemail" after VOICEMAIL, else our default "hangup".
    return outcome(
      CallStatus.COMPLETED,
      call.status === CallStatus.VOICEMAIL ? null : payload.hangup_cause === 'time_limit' ? EndReason.TIME_LIMIT : EndReason.HANGUP,
    );
  }
  switch (payload.hangup_cause) {
    case 'user_busy':
      return outcome(CallStatus.BUSY, EndReason.BUSY);
    case 'call_rejected':
      // The called party declined: reported as a busy line would be, with why.
      return outcome(CallStatus.BUSY, EndReason.REJECTED);
    case 'no_answer':
    case 'timeout':
      return { ...outcome(CallStatus.NO_ANSWER, EndReason.NO_ANSWER), hangupSource: HangupSource.SYSTEM };
    case 'originator_cancel':
      return { ...outcome(CallStatus.CANCELED, EndReason.HANGUP), hangupSource: HangupSource.CALLER };
    case 'not_found':
      return outcome(CallStatus.FAILED, EndReason.NOT_FOUND);
    default:
      // normal_clearing (or unspecified) before answer: the calling side hung up (an inbound
      // caller who gave up, our own hangup of a dialed leg); else the call failed to connect.
      return payload.hangup_source === 'caller' || call.direction === CallDirection.INBOUND
        ? outcome(CallStatus.CANCELED, EndReason.HANGUP)
        : outcome(CallStatus.FAILED, EndReason.FAILED);
  }
}

/** What answered, from machine detection's result (standard: human, machine, not_sure; premium adds human_residence, human_business, silence, fax_detected). */
export function answeredBy(result: string | undefined): AnsweredBy {
  switch (result) {
    case 'human':
    case 'human_residence':
    case 'human_business':
      return AnsweredBy.HUMAN;
    case 'machine':
      return AnsweredBy.MACHINE;
    case 'fax_detected':
      return AnsweredBy.FAX;
    default:
      return AnsweredBy.UNKNOWN;
  }
}

/** Telnyx's answering_machine_detection for the call's option (unset: "detect", so VOICEMAIL can be reported). */
export function telnyxDetection(option: MachineDetection | undefined): 'disabled' | 'detect' | 'detect_beep' {
  return option === MachineDetection.OFF ? 'disabled' : option === MachineDetection.DETECT_BEEP ? 'detect_beep' : 'detect';
}

/**
 * A saved recording's permanent link: `public_recording_urls`, when the account stores
 * recordings publicly (Telnyx sends `{}` otherwise). `recording_urls` are presigned and expire
 * after 10 minutes, so they are never kept: the gateway asks the recordings API for a fresh
 * link whenever the file is fetched (TelnyxProvider.freshRecordingLink).
 */
export function permanentRecordingUrl(payload: Telnyx.CallRecordingSaved.Payload): string | null {
  const pub = payload.public_recording_urls;
  return pub?.mp3 || pub?.wav || null;
}

/** Seconds between recording_started_at and recording_ended_at; null when either is missing. */
export function recordingDuration(payload: Telnyx.CallRecordingSaved.Payload): number | null {
  const started = Date.parse(payload.recording_started_at ?? '');
  const ended = Date.parse(payload.recording_ended_at ?? '');
  return Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, Math.round((ended - started) / 1000)) : null;
}

/**
 * Telnyx answers errors as `{ errors: [{ code, title, detail }] }`; the SDK puts that body on
 * `APIError.error`. The user sees Telnyx's own words (detail, else title) and the HTTP status.
 */
export function toProviderError(provider: string, error: unknown): ProviderError {
  if (error instanceof Telnyx.APIError) {
    const body = error.error as { errors?: { title?: string; detail?: string }[] } | undefined;
    const first = body?.errors?.[0];
    const message = first?.detail ?? first?.title ?? error.message;
    return new ProviderError(provider, `${message}${error.status ? ` (HTTP ${error.status})` : ''}`, error.status);
  }
  return new ProviderError(provider, `Telnyx could not be reached: ${(error as Error)?.message ?? String(error)}`);
}
