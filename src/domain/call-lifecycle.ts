import type { Call, CallEvent } from './call.js';
import type { CallStore } from './call-store.js';
import { newEventId } from './ids.js';
import { ANSWERED, APPLIES_FROM, RANK, TERMINAL, defaultEndReason, type StatusUpdate } from './lifecycle.js';
import { CallStatus } from './call.js';

/** Told after every applied transition, once it is committed (the sequencer listens). */
export type TransitionListener = (call: Call, event: CallEvent) => void;

/** Statuses that mean the destination rang (startedAt is set on the first of them). */
const RANG: ReadonlySet<CallStatus> = new Set([CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL, CallStatus.COMPLETED, CallStatus.NO_ANSWER]);

/**
 * The one entry point for status updates from providers and the simulator. Whether an update
 * applies is decided by the database, atomically (see PgCallStore.applyTransition), so the same
 * update from two processes, or a late callback, changes nothing.
 */
export class CallLifecycle {
  private readonly listeners: TransitionListener[] = [];

  constructor(private readonly store: CallStore) {}

  onTransition(listener: TransitionListener): void {
    this.listeners.push(listener);
  }

  /** Applies the update if it moves the call forward; returns the new state, or null (no-op). */
  async apply(update: StatusUpdate): Promise<{ call: Call; event: CallEvent } | null> {
    const to = update.status;
    const applied = await this.store.applyTransition({
      callId: update.callId,
      eventId: newEventId(),
      status: to,
      occurredAt: update.occurredAt ?? new Date(),
      appliesFrom: APPLIES_FROM[to],
      rang: RANG.has(to),
      answered: ANSWERED.has(to),
      terminal: TERMINAL.has(to),
      endReason: update.endReason ?? null,
      // The VOICEMAIL → COMPLETED case is decided in SQL from the status actually replaced.
      defaultEndReason: defaultEndReason(CallStatus.INITIATED, to),
    });
    if (applied) for (const listener of this.listeners) listener(applied.call, applied.event);
    return applied;
  }

  /** Rank of a status in the forward order (for tests and providers). */
  static rank(status: CallStatus): number {
    return RANK[status];
  }
}
