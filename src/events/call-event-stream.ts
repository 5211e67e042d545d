import type { Tenant } from '../domain/call.js';
import type { CallEventWithCall, CallFilter, CallStore } from '../domain/call-store.js';
import type { EventKey } from '../domain/cursor.js';
import { InvalidArgumentError } from '../domain/errors.js';
import { matchesFilter } from './filter-match.js';
import type { EventLog } from './event-log.js';

const REPLAY_PAGE = 500;

export interface StreamRequest {
  tenant: Tenant;
  callId: string | null;
  filter: CallFilter;
  after: EventKey | null;
}

/**
 * The events of `callStatus`: replay from the log, then live, with no gap and no duplicate.
 *
 * 1. Listen to the live log first and buffer, so nothing committed from now on can be missed.
 * 2. Replay from the database: for one call, its events after the cursor's sequence; for a
 *    tenant, the numbered events after the cursor's log position. Without a cursor, one call's
 *    stream starts with its newest event (its current state).
 * 3. Drain the buffer, dropping what the replay already sent: by sequence for one call (its
 *    events are gap-free 1, 2, 3 …), by log position for a tenant (the log is in commit order).
 */
export async function openCallEventStream(request: StreamRequest, store: CallStore, log: EventLog): Promise<AsyncGenerator<CallEventWithCall>> {
  const { tenant, callId, filter } = request;
  const queue = new PushQueue<CallEventWithCall>();
  const stop = log.listen(tenant.appId, tenant.mode, (event) => {
    if ((callId === null || event.callId === callId) && matchesFilter(event, filter)) queue.push(event);
  });
  // Checked before the stream is handed out, so a bad request is an error of the subscribe
  // call itself (a GraphQL error with a code), not a failure of a running stream.
  let current: CallEventWithCall | null = null;
  let from: string | null = null;
  try {
    if (callId !== null) {
      if (request.after && request.after.callId !== callId) {
        throw new InvalidArgumentError('after', '"after" is a cursor of another call');
      }
      current = await store.latestEvent(tenant, callId);
      if (!current) throw new InvalidArgumentError('callId', `No call ${callId} is visible to this key`);
    } else if (request.after) {
      // A cursor taken before its event was numbered: look the number up now.
      from = request.after.position ?? (await store.positionOf(tenant, request.after.callId, request.after.sequence));
      if (from === null) throw new InvalidArgumentError('after', '"after" names an event that is not in the log yet; retry in a moment');
    }
  } catch (error) {
    stop();
    throw error;
  }
  return stream(request, store, queue, stop, current, from);
}

async function* stream(
  request: StreamRequest,
  store: CallStore,
  queue: PushQueue<CallEventWithCall>,
  stop: () => void,
  current: CallEventWithCall | null,
  from: string | null,
): AsyncGenerator<CallEventWithCall> {
  const { tenant, callId, filter } = request;
  try {
    let lastSequence = 0;
    let lastPosition = 0n;
    const sent = (event: CallEventWithCall) => {
      if (callId !== null) lastSequence = Math.max(lastSequence, event.sequence);
      else lastPosition = BigInt(event.position!);
    };
    const isNew = (event: CallEventWithCall) =>
      callId !== null ? event.sequence > lastSequence : BigInt(event.position!) > lastPosition;

    if (callId !== null && current) {
      if (request.after) {
        lastSequence = request.after.sequence;
        for (let page = await store.callEventsAfter(tenant, callId, lastSequence, REPLAY_PAGE); page.length; ) {
          for (const event of page) {
            if (matchesFilter(event, filter)) yield event;
            sent(event);
          }
          page = page.length < REPLAY_PAGE ? [] : await store.callEventsAfter(tenant, callId, lastSequence, REPLAY_PAGE);
        }
      } else {
        if (matchesFilter(current, filter)) yield current;
        sent(current);
      }
    } else if (from !== null) {
      lastPosition = BigInt(from);
      for (let page = await store.tenantEventsAfter(tenant, from, filter, REPLAY_PAGE); page.length; ) {
        for (const event of page) {
          yield event;
          sent(event);
        }
        page = page.length < REPLAY_PAGE ? [] : await store.tenantEventsAfter(tenant, lastPosition.toString(), filter, REPLAY_PAGE);
      }
    }

    for (;;) {
      const event = await queue.next();
      if (!isNew(event)) continue;
      yield event;
      sent(event);
    }
  } finally {
    stop();
    queue.close();
  }
}

/** An unbounded push queue with one consumer. */
class PushQueue<T> {
  private items: T[] = [];
  private waiting: ((item: T) => void) | null = null;

  push(item: T): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve(item);
    } else {
      this.items.push(item);
    }
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.items = [];
    this.waiting = null;
  }
}
