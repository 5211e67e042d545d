import type { CallEventWithCall, CallFilter, CallStore, Viewer } from '../domain/call-store.js';
import type { EventKey } from '../domain/cursor.js';
import { InvalidArgumentError } from '../domain/errors.js';
import { matchesFilter } from '../domain/filter-match.js';
import type { EventLog } from './event-log.js';

export interface StreamRequest {
  /** With an access token's filter (`scope`), ANDed into `filter`: in the replay's SQL and on every live event. */
  tenant: Viewer;
  callId: string | null;
  filter: CallFilter;
  after: EventKey | null;
}

/**
 * Whether a live event belongs to a subscription: its call (when one is named), the request's
 * filter and an access token's. The one predicate of the live path: a stream until hand-off and
 * its fan-out group after it (graphql/fanout.ts) both listen with it; the replay's SQL says the
 * same in db/ (test/filter-equivalence.test.ts holds the two forms of each filter field together).
 */
export function liveEventMatches(request: Pick<StreamRequest, 'tenant' | 'callId' | 'filter'>, event: CallEventWithCall): boolean {
  const { tenant, callId, filter } = request;
  return (callId === null || event.callId === callId) && matchesFilter(event, filter) && (!tenant.scope || matchesFilter(event, tenant.scope));
}

/** What a live subscriber has already been sent: the dedupe rule of its stream. */
export interface DeliveryMark {
  /** Whether `event` is newer than anything sent (by sequence for one call, by log position for a tenant). */
  isNew(event: CallEventWithCall): boolean;
  sent(event: CallEventWithCall): void;
}

/**
 * Takes over live delivery once replay is done (see graphql/fanout.ts): from then on, events reach
 * the subscriber without passing through this stream. `attach` is called synchronously, in the
 * same tick as this stream stops listening, so no event falls between the two.
 */
export interface LiveSink {
  attach(request: StreamRequest, mark: DeliveryMark): () => void;
}

/**
 * What a stream's `next()` resolves with once it has handed its live events to its LiveSink: done,
 * with this value. The consumer stops asking for events (none will come through the stream) but
 * keeps the subscription open; the stream ends with return(). A `next()` left pending for the
 * subscription's life instead kept a chain of promises, reactions and closures per idle subscriber
 * (≈0.4 KB, bench/fanout-README.md).
 */
export const HANDED_OFF = Symbol('handed off to the live sink');
const HANDED_OFF_RESULT: IteratorReturnResult<typeof HANDED_OFF> = Object.freeze({ done: true, value: HANDED_OFF });

/**
 * The events of `callStatus`: replay from the log, then live, with no gap and no duplicate.
 *
 * 1. Listen to the live log first and buffer, so nothing committed from now on can be missed.
 * 2. Replay from the database: for one call, its events after the cursor's sequence; for a
 *    tenant, the numbered events after the cursor's log position. Without a cursor, one call's
 *    stream starts with its newest event (its current state).
 * 3. Drain the buffer, dropping what the replay already sent: by sequence for one call (its
 *    events are gap-free 1, 2, 3 …), by log position for a tenant (the log is in commit order).
 * 4. With a LiveSink offered, hand live delivery over to it once the buffer is empty.
 *
 * Bounded: the buffer holds at most `bufferLimit` events (a busy tenant during a long replay, or
 * a consumer that does not pull). Past it, the buffer is dropped and the stream reads the log
 * again from the last event it sent once the replay is done: every buffered event is committed
 * and numbered, so nothing is lost, and memory stays bounded whatever the event rate.
 *
 * A hand-written iterator, not an async generator: `return()` (client completes, socket closes)
 * must end the stream at once, and an async generator waiting on an await cannot be returned
 * until that await settles — the next event, which may never come.
 */
export interface StreamLimits {
  /** Events read per replay page (REPLAY_PAGE_SIZE). */
  replayPageSize: number;
  /** Live events held while replaying before the stream rereads the log instead (STREAM_BUFFER_EVENTS). */
  bufferLimit: number;
}

export class CallEventStream implements AsyncIterableIterator<CallEventWithCall, typeof HANDED_OFF | undefined>, DeliveryMark {
  private buffer: CallEventWithCall[] = [];
  /** The buffer overflowed: live events since are read again from the log after the replay. */
  private overflowed = false;
  private waiting: ((result: IteratorResult<CallEventWithCall>) => void) | null = null;
  private replay: AsyncIterator<CallEventWithCall> | null;
  private unlisten: (() => void) | null;
  private detach: (() => void) | null = null;
  private sink: LiveSink | null = null;
  private done = false;
  private lastSequence = 0;
  private lastPosition = 0n;

  private constructor(
    readonly request: StreamRequest,
    log: EventLog,
    private readonly store: CallStore,
    private readonly limits: StreamLimits,
  ) {
    this.unlisten = log.listen(request.tenant.appId, request.tenant.mode, (event) => {
      if (liveEventMatches(request, event)) this.push(event);
    });
    this.replay = null;
  }

  /** Validates the request and starts listening before anything is read, so nothing is missed. */
  static async open(request: StreamRequest, store: CallStore, log: EventLog, limits: StreamLimits): Promise<CallEventStream> {
    const stream = new CallEventStream(request, log, store, limits);
    try {
      stream.replay = await stream.prepareReplay(store, limits.replayPageSize);
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  /** A replay reads `pageSize` events at a time (REPLAY_PAGE_SIZE). */
  private async prepareReplay(store: CallStore, pageSize: number): Promise<AsyncIterator<CallEventWithCall> | null> {
    const { tenant, callId, filter, after } = this.request;
    if (callId !== null) {
      if (after && after.callId !== callId) throw new InvalidArgumentError('after', '"after" is a cursor of another call');
      const current = await store.latestEvent(tenant, callId);
      if (!current) throw new InvalidArgumentError('callId', `No call ${callId} is visible to this key`);
      if (!after) {
        this.lastSequence = current.sequence;
        return matchesFilter(current, filter) ? once(current) : null;
      }
      this.lastSequence = after.sequence;
      return pages(
        (last) => store.callEventsAfter(tenant, callId, last?.sequence ?? after.sequence, pageSize),
        pageSize,
        (event) => matchesFilter(event, filter),
      );
    }
    if (!after) return null;
    // A cursor taken before its event was numbered: look the number up now.
    const from = after.position ?? (await store.positionOf(tenant, after.callId, after.sequence));
    if (from === null) throw new InvalidArgumentError('after', '"after" names an event that is not in the log yet; retry in a moment');
    this.lastPosition = BigInt(from);
    return pages(
      (last) => store.tenantEventsAfter(tenant, last?.position ?? from, filter, pageSize),
      pageSize,
      () => true,
    );
  }

  isNew(event: CallEventWithCall): boolean {
    return this.request.callId !== null ? event.sequence > this.lastSequence : positionOf(event) > this.lastPosition;
  }

  sent(event: CallEventWithCall): void {
    if (this.request.callId !== null) this.lastSequence = Math.max(this.lastSequence, event.sequence);
    else this.lastPosition = positionOf(event);
  }

  /** Offer a LiveSink: live events go to it once replay and buffer are drained. */
  handOffTo(sink: LiveSink): void {
    this.sink = sink;
  }

  private push(event: CallEventWithCall): void {
    if (this.done) return;
    if (this.waiting && !this.replay && !this.overflowed && this.isNew(event)) {
      const resolve = this.waiting;
      this.waiting = null;
      this.sent(event);
      resolve({ value: event, done: false });
    } else if (this.overflowed) {
      // Dropped: read again from the log once the replay is done.
    } else if (this.buffer.length >= this.limits.bufferLimit) {
      // A tenant stream without a cursor starts at the first event it heard, not at the log's start.
      const first = this.buffer[0] ?? event;
      if (this.request.callId === null && this.lastPosition === 0n) this.lastPosition = BigInt(first.position!) - 1n;
      this.overflowed = true;
      this.buffer = [];
    } else {
      this.buffer.push(event);
    }
  }

  /** The log after the last event sent, page by page: what an overflowed buffer dropped. */
  private reread(): AsyncIterator<CallEventWithCall> {
    const { tenant, callId, filter } = this.request;
    const size = this.limits.replayPageSize;
    if (callId !== null) {
      const from = this.lastSequence;
      return pages(
        (last) => this.store.callEventsAfter(tenant, callId, last?.sequence ?? from, size),
        size,
        (event) => matchesFilter(event, filter),
      );
    }
    const from = this.lastPosition.toString();
    return pages(
      (last) => this.store.tenantEventsAfter(tenant, last?.position ?? from, filter, size),
      size,
      () => true,
    );
  }

  async next(): Promise<IteratorResult<CallEventWithCall, typeof HANDED_OFF | undefined>> {
    if (this.done) return { value: undefined, done: true };
    if (this.replay) {
      const item = await this.replay.next();
      // return() may have run while the page was read (the client completed, the socket
      // closed): send nothing more, and attach nowhere, or a fan-out member would outlive it.
      if (this.done) return { value: undefined, done: true };
      if (!item.done) {
        this.sent(item.value);
        return item;
      }
      this.replay = null;
    }
    if (this.overflowed) {
      this.overflowed = false;
      this.replay = this.reread();
      return this.next();
    }
    while (this.buffer.length) {
      const event = this.buffer.shift()!;
      if (this.isNew(event)) {
        this.sent(event);
        return { value: event, done: false };
      }
    }
    if (this.sink) {
      // Everything buffered has been sent: stop listening and hand over, in the same tick. The
      // stream yields nothing more; it ends with return() (the client completes, the socket closes).
      this.unlisten?.();
      this.unlisten = null;
      this.detach = this.sink.attach(this.request, this);
      this.sink = null;
      return HANDED_OFF_RESULT;
    }
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async return(): Promise<IteratorResult<CallEventWithCall>> {
    this.done = true;
    this.unlisten?.();
    this.unlisten = null;
    this.detach?.();
    this.detach = null;
    this.buffer = [];
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ value: undefined, done: true });
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * An event's log position as a number, parsed once for the last event asked about: a fan-out
 * group asks every member's mark about the same event in a row (twice each), and parsing the
 * text each time was ≈0.12 µs per member. One entry: bounded, and a different event simply
 * replaces it.
 */
let lastEvent: CallEventWithCall | undefined;
let lastEventPosition = 0n;
function positionOf(event: CallEventWithCall): bigint {
  if (event !== lastEvent) {
    lastEventPosition = BigInt(event.position!);
    lastEvent = event;
  }
  return lastEventPosition;
}

/** Replays page after page, each starting after the last event read, yielding those `keep` accepts. */
function pages(
  load: (last: CallEventWithCall | null) => Promise<CallEventWithCall[]>,
  pageSize: number,
  keep: (event: CallEventWithCall) => boolean,
): AsyncIterator<CallEventWithCall> {
  let page: CallEventWithCall[] = [];
  let last: CallEventWithCall | null = null;
  let more = true;
  return {
    async next() {
      for (;;) {
        const event = page.shift();
        if (event) {
          last = event;
          if (keep(event)) return { value: event, done: false };
          continue;
        }
        if (!more) return { value: undefined, done: true };
        page = await load(last);
        more = page.length === pageSize;
      }
    },
  };
}

function once(event: CallEventWithCall): AsyncIterator<CallEventWithCall> {
  let given = false;
  return {
    async next() {
      if (given) return { value: undefined, done: true };
      given = true;
      return { value: event, done: false };
    },
  };
}
