import { describe, expect, it, vi } from 'vitest';
import { CallStatus, type Mode, type Tenant } from '../../src/domain/call.js';
import { FakeEventLog, testEvent } from './fixtures.js';
import type { CallEventWithCall, CallFilter, CallStore } from '../../src/domain/call-store.js';
import type { EventKey } from '../../src/domain/cursor.js';
import { InvalidArgumentError } from '../../src/domain/errors.js';
import { CallEventStream, HANDED_OFF, type DeliveryMark, type LiveSink, type StreamRequest } from '../../src/events/call-event-stream.js';
import type { EventLog } from '../../src/events/event-log.js';

const TENANT: Tenant = { appId: 'app_a', mode: 'test' };
const PAGE = 2;

function ev(callId: string, sequence: number, position: number, options: { status?: CallStatus; appId?: string; mode?: Mode } = {}): CallEventWithCall {
  const { status = CallStatus.RINGING, appId = TENANT.appId, mode = TENANT.mode } = options;
  return testEvent({ id: callId, appId, mode, status }, { sequence, position });
}

type ReplayReads = Pick<CallStore, 'latestEvent' | 'callEventsAfter' | 'tenantEventsAfter' | 'positionOf'>;

/** call_event in memory, scoped by tenant like the real store. */
class FakeStore implements ReplayReads {
  readonly events: CallEventWithCall[] = [];
  readonly reads: string[] = [];
  readonly filters: CallFilter[] = [];
  /** Runs at the start of every read: what other processes commit while the replay reads. */
  duringRead: ((read: number) => void) | null = null;
  private gate: Promise<void> | null = null;

  /** The next read waits until released. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return release;
  }

  private async read(name: string): Promise<void> {
    this.reads.push(name);
    this.duringRead?.(this.reads.length);
    const gate = this.gate;
    this.gate = null;
    if (gate) await gate;
  }

  private visible(tenant: Tenant): CallEventWithCall[] {
    return this.events.filter((e) => e.call.appId === tenant.appId && e.call.mode === tenant.mode);
  }

  async latestEvent(tenant: Tenant, callId: string): Promise<CallEventWithCall | null> {
    await this.read('latest');
    return (
      this.visible(tenant)
        .filter((e) => e.callId === callId)
        .sort((a, b) => b.sequence - a.sequence)[0] ?? null
    );
  }

  async callEventsAfter(tenant: Tenant, callId: string, afterSequence: number, limit: number): Promise<CallEventWithCall[]> {
    await this.read(`call>${afterSequence}/${limit}`);
    return this.visible(tenant)
      .filter((e) => e.callId === callId && e.sequence > afterSequence)
      .sort((a, b) => a.sequence - b.sequence)
      .slice(0, limit);
  }

  async tenantEventsAfter(tenant: Tenant, position: string, filter: CallFilter, limit: number): Promise<CallEventWithCall[]> {
    await this.read(`tenant>${position}/${limit}`);
    this.filters.push(filter);
    return this.visible(tenant)
      .filter((e) => Number(e.position) > Number(position) && (!filter.status?.length || filter.status.includes(e.status)))
      .sort((a, b) => Number(a.position) - Number(b.position))
      .slice(0, limit);
  }

  async positionOf(tenant: Tenant, callId: string, sequence: number): Promise<string | null> {
    await this.read(`position ${callId}#${sequence}`);
    return this.visible(tenant).find((e) => e.callId === callId && e.sequence === sequence)?.position ?? null;
  }
}

function setup() {
  const store = new FakeStore();
  const log = new FakeEventLog();
  /** An event committed and numbered: in the database, and announced to live listeners. */
  const commit = (...events: CallEventWithCall[]) => {
    for (const e of events) {
      store.events.push(e);
      log.emit(e);
    }
  };
  const open = (request: Partial<StreamRequest>, bufferLimit = 1_000) =>
    CallEventStream.open({ tenant: TENANT, callId: null, filter: {}, after: null, ...request }, store as unknown as CallStore, log as unknown as EventLog, {
      replayPageSize: PAGE,
      bufferLimit,
    });
  return { store, log, commit, open };
}

function cursor(callId: string, sequence: number, position: number | null): EventKey {
  return { callId, sequence, position: position === null ? null : String(position) };
}

/** The next event's "callId#sequence@position", or 'pending' if next() has not resolved once promises have run. */
async function peek(next: Promise<IteratorResult<CallEventWithCall, unknown>>): Promise<string> {
  const result = await Promise.race([next, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
  if (result === 'pending') return result;
  if (result.done) return result.value === HANDED_OFF ? 'handed off' : 'done';
  return `${result.value.callId}#${result.value.sequence}@${result.value.position}`;
}

async function take(stream: CallEventStream, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await peek(stream.next()));
  return out;
}

describe('CallEventStream of one call', () => {
  it('without a cursor, starts with the call’s newest event (its current state), then its live events', async () => {
    const { store, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2));
    const stream = await open({ callId: 'call_1' });
    expect(await take(stream, 1)).toEqual(['call_1#2@2']);
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    commit(ev('call_1', 3, 3));
    expect(await peek(next)).toBe('call_1#3@3');
  });

  it('listens before it reads, so an event committed during the read is sent once, not lost and not twice', async () => {
    const { store, log, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1));
    const listening: number[] = [];
    store.duringRead = () => {
      listening.push(log.listenerCount);
      if (store.reads.length === 1) commit(ev('call_1', 2, 2));
    };
    const stream = await open({ callId: 'call_1' });
    expect(listening).toEqual([1]);
    expect(await take(stream, 2)).toEqual(['call_1#2@2', 'pending']);
  });

  it('with a cursor, replays the events after its sequence, then the live ones, with no gap and no duplicate', async () => {
    const { store, commit, open } = setup();
    store.events.push(...[1, 2, 3, 4, 5].map((n) => ev('call_1', n, n * 10)));
    // Events 6 and 7 commit while the replay reads its first page: the replay reads them too.
    store.duringRead = (read) => {
      if (read === 1) commit(ev('call_1', 6, 60), ev('call_1', 7, 70));
    };
    const stream = await open({ callId: 'call_1', after: cursor('call_1', 2, 20) });
    expect(await take(stream, 5)).toEqual(['call_1#3@30', 'call_1#4@40', 'call_1#5@50', 'call_1#6@60', 'call_1#7@70']);
    const next = stream.next();
    commit(ev('call_1', 8, 80));
    expect(await peek(next)).toBe('call_1#8@80');
    expect(store.reads).toEqual(['latest', 'call>2/2', 'call>4/2', 'call>6/2']);
  });

  it('drains events committed after the replay’s last read, in order, before waiting', async () => {
    const { store, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2));
    const stream = await open({ callId: 'call_1', after: cursor('call_1', 0, null) });
    expect(await take(stream, 1)).toEqual(['call_1#1@1']);
    // Replay is mid-way (one event left in its page); these are only in the live buffer.
    commit(ev('call_1', 3, 3), ev('call_1', 4, 4));
    expect(await take(stream, 4)).toEqual(['call_1#2@2', 'call_1#3@3', 'call_1#4@4', 'pending']);
  });

  it('pages the replay from the last event read, even one the filter drops, and applies the filter in memory', async () => {
    const { store, open } = setup();
    store.events.push(
      ev('call_1', 1, 1, { status: CallStatus.RINGING }),
      ev('call_1', 2, 2, { status: CallStatus.IN_PROGRESS }),
      ev('call_1', 3, 3, { status: CallStatus.IN_PROGRESS }),
      ev('call_1', 4, 4, { status: CallStatus.IN_PROGRESS }),
      ev('call_1', 5, 5, { status: CallStatus.IN_PROGRESS }),
    );
    const stream = await open({ callId: 'call_1', after: cursor('call_1', 0, null), filter: { status: [CallStatus.RINGING] } });
    expect(await take(stream, 2)).toEqual(['call_1#1@1', 'pending']);
    expect(store.reads).toEqual(['latest', 'call>0/2', 'call>2/2', 'call>4/2']);
  });

  it('with a filter its current state does not match, sends nothing until a live event matches', async () => {
    const { store, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1, { status: CallStatus.RINGING }));
    const stream = await open({ callId: 'call_1', filter: { status: [CallStatus.COMPLETED] } });
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    commit(ev('call_1', 2, 2, { status: CallStatus.IN_PROGRESS }), ev('call_2', 7, 3, { status: CallStatus.COMPLETED }));
    expect(await peek(next)).toBe('pending');
    commit(ev('call_1', 3, 4, { status: CallStatus.COMPLETED }));
    expect(await peek(next)).toBe('call_1#3@4');
  });

  it('drops a live event it has already sent (a redelivery), even while a next() is waiting', async () => {
    const { store, log, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2));
    const stream = await open({ callId: 'call_1' });
    expect(await take(stream, 1)).toEqual(['call_1#2@2']);
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    log.emit(ev('call_1', 1, 1));
    log.emit(ev('call_1', 2, 2));
    expect(await peek(next)).toBe('pending');
    log.emit(ev('call_1', 3, 3));
    expect(await peek(next)).toBe('call_1#3@3');
  });

  it('refuses a cursor of another call, and stops listening', async () => {
    const { store, log, open } = setup();
    store.events.push(ev('call_1', 1, 1));
    const error = await open({ callId: 'call_1', after: cursor('call_2', 1, 1) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('after');
    expect(log.listenerCount).toBe(0);
  });

  it('refuses a call the key cannot see (unknown, or another tenant’s), and stops listening', async () => {
    const { store, log, open } = setup();
    store.events.push(ev('call_9', 1, 1, { appId: 'app_b' }), ev('call_8', 1, 2, { mode: 'live' }));
    for (const callId of ['call_1', 'call_9', 'call_8']) {
      const error = await open({ callId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('callId');
    }
    expect(log.listenerCount).toBe(0);
  });

  it('as a delivery mark, remembers the highest sequence sent', async () => {
    const { store, open } = setup();
    store.events.push(ev('call_1', 1, 1));
    const stream = await open({ callId: 'call_1' });
    expect(stream.isNew(ev('call_1', 1, 1))).toBe(false);
    expect(stream.isNew(ev('call_1', 2, 2))).toBe(true);
    stream.sent(ev('call_1', 5, 5));
    stream.sent(ev('call_1', 3, 3));
    expect(stream.isNew(ev('call_1', 4, 4))).toBe(false);
    expect(stream.isNew(ev('call_1', 6, 6))).toBe(true);
  });
});

describe('CallEventStream of a tenant', () => {
  it('without a cursor, reads nothing and sends the live events of every call of the tenant that match the filter, in log order', async () => {
    const { store, commit, open } = setup();
    const stream = await open({ filter: { status: [CallStatus.RINGING, CallStatus.COMPLETED] } });
    commit(
      ev('call_1', 1, 1),
      ev('call_2', 1, 2, { appId: 'app_b' }),
      ev('call_3', 1, 3, { mode: 'live' }),
      ev('call_4', 1, 4, { status: CallStatus.IN_PROGRESS }),
      ev('call_5', 1, 5, { status: CallStatus.COMPLETED }),
    );
    expect(await take(stream, 3)).toEqual(['call_1#1@1', 'call_5#1@5', 'pending']);
    expect(store.reads).toEqual([]);
  });

  it('with a cursor, replays the tenant’s events after its position (the filter goes to the store), then live ones, with no gap and no duplicate', async () => {
    const { store, commit, open } = setup();
    store.events.push(
      ev('call_1', 1, 1),
      ev('call_2', 1, 2),
      ev('call_1', 2, 3),
      ev('call_3', 1, 4, { appId: 'app_b' }),
      ev('call_2', 2, 5),
      ev('call_2', 3, 6),
    );
    store.duringRead = (read) => {
      if (read === 1) commit(ev('call_1', 3, 7), ev('call_3', 2, 8, { appId: 'app_b' }));
    };
    const filter: CallFilter = { status: [CallStatus.RINGING] };
    const stream = await open({ filter, after: cursor('call_2', 1, 2) });
    expect(await take(stream, 4)).toEqual(['call_1#2@3', 'call_2#2@5', 'call_2#3@6', 'call_1#3@7']);
    const next = stream.next();
    commit(ev('call_4', 1, 9));
    expect(await peek(next)).toBe('call_4#1@9');
    expect(store.reads).toEqual(['tenant>2/2', 'tenant>5/2', 'tenant>7/2']);
    expect(store.filters.every((f) => f === filter)).toBe(true);
  });

  it('drops live events at or below the last position sent', async () => {
    const { store, log, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2));
    const stream = await open({ after: cursor('call_1', 1, 1) });
    expect(await take(stream, 1)).toEqual(['call_1#2@2']);
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    log.emit(ev('call_1', 2, 2));
    expect(await peek(next)).toBe('pending');
    log.emit(ev('call_2', 1, 3));
    expect(await peek(next)).toBe('call_2#1@3');
  });

  it('drops live events at or below its cursor, which a process whose tail is behind the cursor may still deliver', async () => {
    const { store, log, open } = setup();
    store.events.push(ev('call_1', 1, 4), ev('call_1', 2, 5));
    const stream = await open({ after: cursor('call_1', 2, 5) });
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    log.emit(ev('call_1', 1, 4));
    log.emit(ev('call_1', 2, 5));
    expect(await peek(next)).toBe('pending');
    log.emit(ev('call_2', 1, 6));
    expect(await peek(next)).toBe('call_2#1@6');
  });

  it('looks up the position of a cursor taken before its event was numbered', async () => {
    const { store, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2), ev('call_2', 1, 3));
    const stream = await open({ after: cursor('call_1', 2, null) });
    expect(await take(stream, 2)).toEqual(['call_2#1@3', 'pending']);
    expect(store.reads).toEqual(['position call_1#2', 'tenant>2/2']);
  });

  it('refuses, with a retry hint, a cursor whose event is not in the log yet, and stops listening', async () => {
    const { log, open } = setup();
    const error = await open({ after: cursor('call_1', 2, null) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('after');
    expect((error as Error).message).toMatch(/retry/);
    expect(log.listenerCount).toBe(0);
  });
});

describe('CallEventStream hand-over to a LiveSink', () => {
  function sink() {
    const attached: { request: StreamRequest; mark: DeliveryMark; listenersAtAttach: number }[] = [];
    const detach = vi.fn();
    let log: FakeEventLog | null = null;
    const liveSink: LiveSink = {
      attach(request, mark) {
        attached.push({ request, mark, listenersAtAttach: log!.listenerCount });
        return detach;
      },
    };
    return { liveSink, attached, detach, watch: (l: FakeEventLog) => (log = l) };
  }

  it('hands over once the replay and the buffer are drained, stopping listening in the same tick, with its dedupe mark', async () => {
    const { store, log, commit, open } = setup();
    const { liveSink, attached, watch } = sink();
    watch(log);
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2));
    const stream = await open({ callId: 'call_1', after: cursor('call_1', 0, null) });
    stream.handOffTo(liveSink);
    expect(await take(stream, 1)).toEqual(['call_1#1@1']);
    // Read by the replay's next page, and buffered as well.
    commit(ev('call_1', 3, 3));
    expect(await take(stream, 2)).toEqual(['call_1#2@2', 'call_1#3@3']);
    // Committed after the replay's last (short) page: only in the buffer.
    commit(ev('call_1', 4, 4));
    expect(await take(stream, 1)).toEqual(['call_1#4@4']);
    expect(attached).toHaveLength(0);
    expect(log.listenerCount).toBe(1);

    // Handed off: done, with HANDED_OFF (the consumer stops asking; the stream ends with return()).
    expect(await peek(stream.next())).toBe('handed off');
    expect(attached).toHaveLength(1);
    expect(attached[0]!.listenersAtAttach).toBe(0);
    expect(attached[0]!.request).toBe(stream.request);
    expect(attached[0]!.mark).toBe(stream);
    expect(attached[0]!.mark.isNew(ev('call_1', 4, 4))).toBe(false);
    expect(attached[0]!.mark.isNew(ev('call_1', 5, 5))).toBe(true);

    // From now on the sink delivers: the stream no longer sees live events.
    const next = stream.next();
    commit(ev('call_1', 5, 5));
    expect(await peek(next)).toBe('pending');
    expect(attached).toHaveLength(1);
    expect(log.listenerCount).toBe(0);
  });

  it('hands over only once, and return() detaches from the sink', async () => {
    const { log, open } = setup();
    const { liveSink, attached, detach, watch } = sink();
    watch(log);
    const stream = await open({});
    stream.handOffTo(liveSink);
    expect(await peek(stream.next())).toBe('handed off');
    // Asked again after the hand-off: waits (nothing comes through the stream) until return().
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    expect(attached).toHaveLength(1);
    expect(detach).not.toHaveBeenCalled();
    await stream.return();
    expect(detach).toHaveBeenCalledTimes(1);
    expect(await peek(next)).toBe('done');
    await stream.return();
    expect(detach).toHaveBeenCalledTimes(1);
    expect(attached).toHaveLength(1);
  });

  it('without a sink, keeps listening after the replay', async () => {
    const { store, log, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1));
    const stream = await open({ callId: 'call_1' });
    expect(await take(stream, 1)).toEqual(['call_1#1@1']);
    const next = stream.next();
    expect(await peek(next)).toBe('pending');
    expect(log.listenerCount).toBe(1);
    commit(ev('call_1', 2, 2));
    expect(await peek(next)).toBe('call_1#2@2');
  });
});

describe('CallEventStream return()', () => {
  it('ends a waiting next() at once, stops listening, and drops what was buffered', async () => {
    const { store, log, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2), ev('call_1', 3, 3));
    const stream = await open({ after: cursor('call_1', 0, 0) });
    commit(ev('call_1', 4, 4));
    expect(await take(stream, 1)).toEqual(['call_1#1@1']);
    expect(await stream.return()).toEqual({ value: undefined, done: true });
    expect(log.listenerCount).toBe(0);
    expect(await take(stream, 1)).toEqual(['done']);

    const fresh = await open({});
    const next = fresh.next();
    expect(await peek(next)).toBe('pending');
    await fresh.return();
    expect(await peek(next)).toBe('done');
    commit(ev('call_1', 5, 5));
    expect(await take(fresh, 1)).toEqual(['done']);
  });

  it('is what breaking out of for await calls', async () => {
    const { store, log, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1));
    const stream = await open({ callId: 'call_1' });
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const event of stream) {
        seen.push(event.sequence);
        if (event.sequence === 3) break;
      }
    })();
    await new Promise((resolve) => setImmediate(resolve));
    commit(ev('call_1', 2, 2));
    commit(ev('call_1', 3, 3));
    await consumer;
    expect(seen).toEqual([1, 2, 3]);
    expect(log.listenerCount).toBe(0);
  });

  it('during a replay read, ends the waiting next() and attaches to no sink (a client that leaves mid-replay leaves nothing behind)', async () => {
    for (const page of [[], [ev('call_1', 2, 2)]]) {
      const { store, log, open } = setup();
      const attach = vi.fn(() => () => {});
      const stream = await open({ after: cursor('call_1', 1, 1) });
      stream.handOffTo({ attach });
      const release = store.hold();
      const next = stream.next();
      await stream.return();
      store.events.push(...page);
      release();
      expect(await peek(next)).toBe('done');
      expect(attach).not.toHaveBeenCalled();
      expect(log.listenerCount).toBe(0);
    }
  });
});

describe('CallEventStream buffer bound', () => {
  it('a busy tenant during a long replay: at most bufferLimit events are held; past it, the log is read again, with no gap and no duplicate', async () => {
    const { store, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1), ev('call_1', 2, 2));
    const release = store.hold();
    const stream = await open({ after: cursor('call_1', 1, 1) }, 3);
    const next = stream.next();
    // While the first page is read, 10 events arrive: more than the 3 the stream may hold.
    for (let n = 3; n <= 12; n++) commit(ev(`call_${n}`, 1, n));
    expect((stream as unknown as { buffer: unknown[] }).buffer.length).toBeLessThanOrEqual(3);
    release();
    const got = [await peek(next), ...(await take(stream, 11))];
    expect(got).toEqual(['call_1#2@2', ...Array.from({ length: 10 }, (_, i) => `call_${i + 3}#1@${i + 3}`), 'pending']);
    // After the reread the stream is live again: a new event arrives at once.
    const live = stream.next();
    commit(ev('call_13', 1, 13));
    expect(await peek(live)).toBe('call_13#1@13');
  });

  it('a tenant stream without a cursor that overflows rereads from the first event it heard, not from the start of the log', async () => {
    const { store, commit, open } = setup();
    store.events.push(ev('call_0', 1, 1), ev('call_0', 2, 2));
    const stream = await open({}, 2);
    // Nobody pulls while 5 events arrive.
    for (let n = 3; n <= 7; n++) commit(ev(`call_${n}`, 1, n));
    expect(await take(stream, 6)).toEqual(['call_3#1@3', 'call_4#1@4', 'call_5#1@5', 'call_6#1@6', 'call_7#1@7', 'pending']);
    expect(store.reads).toEqual(['tenant>2/2', 'tenant>4/2', 'tenant>6/2']);
  });

  it('one call’s stream that overflows rereads that call from its last sequence, with its filter', async () => {
    const { store, commit, open } = setup();
    store.events.push(ev('call_1', 1, 1));
    const stream = await open({ callId: 'call_1', filter: { status: [CallStatus.RINGING] } }, 2);
    expect(await take(stream, 1)).toEqual(['call_1#1@1']);
    commit(ev('call_1', 2, 2), ev('call_2', 1, 3), ev('call_1', 3, 4, { status: CallStatus.IN_PROGRESS }), ev('call_1', 4, 5), ev('call_1', 5, 6));
    expect(await take(stream, 4)).toEqual(['call_1#2@2', 'call_1#4@5', 'call_1#5@6', 'pending']);
  });
});
