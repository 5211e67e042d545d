import { inSpan, tracing } from '../shared/tracing.js';
import { CoalescingRunner, PeriodicRunner } from '../shared/runners.js';
import type { CallEventWithCall } from '../domain/call-store.js';
import type { Mode } from '../domain/call.js';
import type { PgEventLog } from '../db/pg-event-log.js';
import type { Logger } from '../domain/logger.js';
import type { EventBus } from './event-bus.js';

export type EventListener = (event: CallEventWithCall) => void;

export interface EventLogOptions {
  /**
   * The least time between the starts of two sequencer runs: a write after a quiet spell is
   * numbered at once; under load, each run numbers what the last `sequenceIntervalMs` wrote.
   */
  sequenceIntervalMs: number;
  /** Safety net for lost announcements and for events of a process that died before numbering them. */
  pollMs: number;
  batch: number;
}

/**
 * The live side of the event log, one per gateway process:
 * - the sequencer numbers committed events (after local writes, and on a timer for events
 *   other processes left behind), then announces the new head on the bus;
 * - the tailer reads the numbered log in order, once per announcement for the whole process,
 *   and hands each event to the local listeners of its tenant. Subscribers never query the
 *   database for live events, and the order they see is the log's order.
 */
export class EventLog {
  private readonly listeners = new Map<string, Set<EventListener>>();
  private tail = '0';
  /** The newest position announced or polled; the tail may skip to it when nobody listens. */
  private known = '0';
  /**
   * Runs start at least `sequenceIntervalMs` apart, so under load a burst of writes is numbered in
   * one run (one transaction) rather than one run per write. A run's cost is mostly per run, not
   * per event: at most 1000 / sequenceIntervalMs runs a second bounds the log's database work
   * whatever the write rate, for at most that much latency, and none after a quiet spell.
   */
  private readonly sequencer = new CoalescingRunner(() => this.runSequencer(), this.options.sequenceIntervalMs);
  private readonly tailer = new CoalescingRunner(() => this.runTailer());
  private poller: PeriodicRunner | undefined;
  private stopped = false;
  private readonly advanceListeners: (() => void)[] = [];

  constructor(
    private readonly log: PgEventLog,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: EventLogOptions,
  ) {}

  async start(): Promise<void> {
    this.tail = await this.log.head();
    this.known = this.tail;
    this.bus.subscribe((position) => {
      // A position from LISTEN/NOTIFY is this database's. One from Redis may be another
      // database's (a channel shared by two deployments, or by test runs): it only wakes the
      // tailer, which reads this database's head; trusted, a larger foreign position would let
      // the tail jump past this database's own next events, and they would never be delivered.
      if (position === null || this.bus.notifyChannel === null) this.catchUp();
      else if (BigInt(position) > BigInt(this.tail)) this.catchUp(position);
      this.advanced();
    });
    this.poller = new PeriodicRunner(() => this.poll(), this.options.pollMs).start();
    // Events left unnumbered by a process that stopped.
    this.kick();
  }

  /**
   * Told when the log's head may have moved (an announcement, or the poll): consumers that
   * read the log by position themselves (the webhook fan-out) start from here.
   */
  onAdvance(listener: () => void): void {
    this.advanceListeners.push(listener);
  }

  private advanced(): void {
    for (const listener of this.advanceListeners) listener();
  }

  /** Events known to be in the log that this process has not delivered yet. */
  get lag(): number {
    const lag = Number(BigInt(this.known) - BigInt(this.tail));
    return lag > 0 ? lag : 0;
  }

  /** The newest position this process has delivered. */
  get head(): string {
    return this.tail;
  }

  /** Listen to the events of one tenant; returns the unsubscribe function. */
  listen(appId: string, mode: Mode, listener: EventListener): () => void {
    const key = `${appId}:${mode}`;
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** Number new events soon; calls made while a run is in progress make one more run. */
  kick(): void {
    if (!this.stopped) this.sequencer.request();
  }

  private runSequencer(): Promise<void> {
    // One span per run (tracing on): a run numbers events of any calls, so it belongs to no call's trace.
    return tracing.on ? inSpan('event-log sequence', {}, () => this.sequence()) : this.sequence();
  }

  private async sequence(): Promise<void> {
    try {
      for (;;) {
        const numbered = await this.log.sequence(this.options.batch, this.bus.notifyChannel);
        if (!numbered) return;
        if (this.bus.notifyChannel === null) await this.bus.publish(numbered.position);
        if (numbered.count < this.options.batch) return;
      }
    } catch (error) {
      if (!this.stopped) this.logger.error('event sequencer failed; the poll will retry', { error: (error as Error).message });
    }
  }

  /** Read the log past the tail and deliver; calls made while a read is in progress make one more read. */
  catchUp(position?: string): void {
    if (position !== undefined && BigInt(position) > BigInt(this.known)) this.known = position;
    if (!this.stopped) this.tailer.request();
  }

  private async runTailer(): Promise<void> {
    try {
      // Nobody listens in this process: move the tail without reading the events.
      if (this.listeners.size === 0) {
        if (BigInt(this.known) <= BigInt(this.tail)) this.known = await this.log.head();
        // Checked again after the await, in the same tick as the jump: a stream that started
        // listening meanwhile may be replaying up to a point this jump would otherwise skip.
        if (this.listeners.size === 0) {
          if (BigInt(this.known) > BigInt(this.tail)) this.tail = this.known;
          return;
        }
      }
      for (;;) {
        const events = await this.log.after(this.tail, this.options.batch);
        for (const event of events) {
          this.tail = event.position!;
          const set = this.listeners.get(`${event.call.appId}:${event.call.mode}`);
          if (set) {
            for (const listener of set) {
              try {
                listener(event);
              } catch (error) {
                this.logger.error('event listener failed', { error: (error as Error).message });
              }
            }
          }
        }
        if (events.length < this.options.batch) return;
      }
    } catch (error) {
      if (!this.stopped) this.logger.error('event tailer failed; the poll will retry', { error: (error as Error).message });
    }
  }

  private async poll(): Promise<void> {
    try {
      if (await this.log.hasUnsequenced()) this.kick();
      const head = await this.log.head();
      if (BigInt(head) > BigInt(this.tail)) this.catchUp(head);
      this.advanced();
    } catch {
      // The database is unreachable; the next tick tries again.
    }
  }

  /** Resolves when what is under way is done (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([this.sequencer.settle(), this.tailer.settle()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.poller?.stop();
    await this.settle();
  }
}
