import { CallStatus, EndReason, HangupSource } from './call.js';

/**
 * The call status lifecycle (the contract's table). Pure: no I/O.
 *
 * Status only moves forward: INITIATED < RINGING < IN_PROGRESS < VOICEMAIL < terminal.
 * A provider update is applied when the target is reachable from the current status through the
 * table, directly or by skipping states whose own update is late or lost (RINGING → COMPLETED
 * when the IN_PROGRESS callback never arrived). A duplicate, late or backwards update is a no-op.
 */
export const RANK: Record<CallStatus, number> = {
  [CallStatus.INITIATED]: 0,
  [CallStatus.RINGING]: 1,
  [CallStatus.IN_PROGRESS]: 2,
  [CallStatus.VOICEMAIL]: 3,
  [CallStatus.COMPLETED]: 4,
  [CallStatus.FAILED]: 4,
  [CallStatus.BUSY]: 4,
  [CallStatus.NO_ANSWER]: 4,
  [CallStatus.CANCELED]: 4,
};

/** The contract's allowed direct transitions. */
export const TRANSITIONS: Record<CallStatus, readonly CallStatus[]> = {
  [CallStatus.INITIATED]: [CallStatus.RINGING, CallStatus.FAILED, CallStatus.BUSY, CallStatus.CANCELED],
  [CallStatus.RINGING]: [CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL, CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED, CallStatus.CANCELED],
  [CallStatus.IN_PROGRESS]: [CallStatus.VOICEMAIL, CallStatus.COMPLETED, CallStatus.FAILED],
  [CallStatus.VOICEMAIL]: [CallStatus.COMPLETED, CallStatus.FAILED],
  [CallStatus.COMPLETED]: [],
  [CallStatus.FAILED]: [],
  [CallStatus.BUSY]: [],
  [CallStatus.NO_ANSWER]: [],
  [CallStatus.CANCELED]: [],
};

export const TERMINAL: ReadonlySet<CallStatus> = new Set([CallStatus.COMPLETED, CallStatus.FAILED, CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.CANCELED]);

/** The statuses of a call that has not ended. */
export const LIVE_STATUSES: readonly CallStatus[] = Object.values(CallStatus).filter((status) => !TERMINAL.has(status));

export function isTerminal(status: CallStatus): boolean {
  return TERMINAL.has(status);
}

/** Statuses from which `to` is reachable (the transitive closure of the table). */
function reachableFrom(to: CallStatus): CallStatus[] {
  const sources = new Set<CallStatus>();
  const visit = (target: CallStatus) => {
    for (const [from, targets] of Object.entries(TRANSITIONS) as [CallStatus, readonly CallStatus[]][]) {
      if (targets.includes(target) && !sources.has(from)) {
        sources.add(from);
        visit(from);
      }
    }
  };
  visit(to);
  return [...sources];
}

/** For each target status, the statuses a call may be in for the update to apply. */
export const APPLIES_FROM: Record<CallStatus, readonly CallStatus[]> = Object.fromEntries(
  Object.values(CallStatus).map((status) => [status, reachableFrom(status)]),
) as unknown as Record<CallStatus, readonly CallStatus[]>;

export function canMove(from: CallStatus, to: CallStatus): boolean {
  return APPLIES_FROM[to].includes(from);
}

/** Statuses that mean the call was answered (by a person or a voicemail box). */
export const ANSWERED: ReadonlySet<CallStatus> = new Set([CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL, CallStatus.COMPLETED]);

/** endReason when the provider gives none; COMPLETED after VOICEMAIL is "voicemail". */
export function defaultEndReason(previous: CallStatus, to: CallStatus): EndReason | null {
  switch (to) {
    case CallStatus.COMPLETED:
      return previous === CallStatus.VOICEMAIL ? EndReason.VOICEMAIL : EndReason.HANGUP;
    case CallStatus.FAILED:
      return EndReason.FAILED;
    case CallStatus.BUSY:
      return EndReason.BUSY;
    case CallStatus.NO_ANSWER:
      return EndReason.NO_ANSWER;
    case CallStatus.CANCELED:
      return EndReason.CANCELED;
    default:
      return null;
  }
}

/**
 * Who ended the call when the provider does not say: a command is the API; a busy or declining
 * callee is the CALLEE; a caller who gave up is the CALLER; a ring timeout, a time limit or a
 * failure is the SYSTEM. An answered call that COMPLETED without a command: unknown (null).
 */
export function defaultHangupSource(to: CallStatus, endReason: EndReason | null, commandId: string | null): HangupSource | null {
  if (!TERMINAL.has(to)) return null;
  if (commandId) return HangupSource.API;
  if (endReason === EndReason.TIME_LIMIT) return HangupSource.SYSTEM;
  switch (to) {
    case CallStatus.BUSY:
      return HangupSource.CALLEE;
    case CallStatus.CANCELED:
      return HangupSource.CALLER;
    case CallStatus.NO_ANSWER:
    case CallStatus.FAILED:
      return HangupSource.SYSTEM;
    default:
      return null;
  }
}

/** A status change reported by a provider (or the simulator). */
export interface StatusUpdate {
  callId: string;
  status: CallStatus;
  /** When it happened at the provider; defaults to now. */
  occurredAt?: Date;
  /** Overrides the default endReason of a terminal status, e.g. "hangup" for CANCELED by the caller. */
  endReason?: EndReason | null;
  /** Who ended it, when the provider says (else defaultHangupSource). */
  hangupSource?: HangupSource | null;
  /** The provider's SIP code for the end, when it gives one. */
  sipCode?: number | null;
  /** The command this transition carries out (hangupCall, answerCall …), if any. */
  commandId?: string | null;
}
