import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PgEventLog } from '../../src/db/pg-event-log.js';
import { CallStatus, type Mode } from '../../src/domain/call.js';
import { testEvent } from './fixtures.js';
import type { CallEventWithCall } from '../../src/domain/call-store.js';
import type { Logger } from '../../src/domain/logger.js';
import type { EventBus } from '../../src/events/event-bus.js';
import { EventLog, type EventLogOptions } from '../../src/events/event-log.js';

// EventLog takes the concrete PgEventLog class (it has a private `sql`), so the in-memory log
// below implements its four public methods and is passed through a cast.
type LogPort = Pick<PgEventLog, 'sequence' | 'hasUnsequenced' | 'head' | 'after'>;
type Method = keyof LogPort;

function event(appId: string, mode: Mode, callId: string, sequence: number): CallEventWithCall {
  return testEvent({ id: callId, appId, mode }, { sequence, position: null, previousStatus: CallStatus.INITIATED });
}

/** The call_event table in memory: events are committed unnumbered, numbered in insertion order. */
class FakeLog implements LogPort {
  private readonly rows: CallEventWithCall[] = [];
  private max = 0;
  private readonly held = new Map<Method, Promise<void>>();
  private readonly failures = new Map<Method, Error>();
  readonly sequenceCalls: { batch: number; channel: string | null; numbered: number }[] = [];
  readonly afterCalls: { position: string; limit: number }[] = [];
  headCalls = 0;
  /** LISTEN/NOTIFY: the announcement a numbering run makes inside its transaction. */
  onNotify: ((position: string) => void) | null = null;

  /** Events committed by a writer, waiting for the sequencer. */
  commit(...events: CallEventWithCall[]): void {
    this.rows.push(...events);
  }

  /** Events numbered by another process whose announcement never arrived. */
  commitNumbered(...events: CallEventWithCall[]): void {
    for (const e of events) this.rows.push({ ...e, position: String(++this.max) });
  }

  /** The next call of `method` waits until released (or fails). */
  hold(method: Method): { release: () => void; fail: (error: Error) => void } {
    let release!: () => void;
    let fail!: (error: Error) => void;
    this.held.set(method, new Promise<void>((resolve, reject) => ((release = resolve), (fail = reject))));
    return { release, fail };
  }

  failNext(method: Method, message = 'connection refused'): void {
    this.failures.set(method, new Error(message));
  }

  private async enter(method: Method): Promise<void> {
    const gate = this.held.get(method);
    this.held.delete(method);
    if (gate) await gate;
    const failure = this.failures.get(method);
    this.failures.delete(method);
    if (failure) throw failure;
  }

  async sequence(batch: number, channel: string | null): Promise<{ position: string; count: number } | null> {
    const call = { batch, channel, numbered: 0 };
    this.sequenceCalls.push(call);
    await this.enter('sequence');
    const pending = this.rows.filter((row) => row.position === null).slice(0, batch);
    for (const row of pending) row.position = String(++this.max);
    call.numbered = pending.length;
    if (!pending.length) return null;
    const position = String(this.max);
    if (channel !== null) this.onNotify?.(position);
    return { position, count: pending.length };
  }

  async hasUnsequenced(): Promise<boolean> {
    await this.enter('hasUnsequenced');
    return this.rows.some((row) => row.position === null);
  }

  async head(): Promise<string> {
    this.headCalls++;
    await this.enter('head');
    return String(this.max);
  }

  async after(position: string, limit: number): Promise<CallEventWithCall[]> {
    this.afterCalls.push({ position, limit });
    await this.enter('after');
    return this.rows
      .filter((row) => row.position !== null && Number(row.position) > Number(position))
      .sort((a, b) => Number(a.position) - Number(b.position))
      .slice(0, limit)
      .map((row) => ({ ...row }));
  }
}

class FakeBus implements EventBus {
  readonly name = 'fake';
  readonly published: string[] = [];
  private readonly listeners: ((position: string | null) => void)[] = [];

  constructor(readonly notifyChannel: string | null) {}

  async publish(position: string): Promise<void> {
    this.published.push(position);
    this.announce(position);
  }

  subscribe(listener: (position: string | null) => void): void {
    this.listeners.push(listener);
  }

  /** A message from the bus: this process's, another's, or null after a reconnect. */
  announce(position: string | null): void {
    for (const listener of this.listeners) listener(position);
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

const created: EventLog[] = [];

afterEach(async () => {
  const stopping = Promise.all(created.splice(0).map((log) => log.stop()));
  // A test that failed midway may leave a delayed sequencer run on the fake clock.
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(1_000);
  await stopping;
  vi.useRealTimers();
});

function setup(options: Partial<EventLogOptions> & { channel?: string | null } = {}) {
  const { channel = null, ...rest } = options;
  const store = new FakeLog();
  const bus = new FakeBus(channel);
  if (channel !== null) store.onNotify = (position) => bus.announce(position);
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
  const log = new EventLog(store as unknown as PgEventLog, bus, logger, { pollMs: 60_000, batch: 1_000, sequenceIntervalMs: 0, ...rest });
  created.push(log);
  const received: string[] = [];
  const record = (e: CallEventWithCall) => received.push(`${e.call.appId}:${e.call.mode}:${e.id}@${e.position}`);
  return { store, bus, logger, log, received, record };
}

async function started(options: Parameters<typeof setup>[0] = {}) {
  const parts = setup(options);
  await parts.log.start();
  await settled(parts.log);
  return parts;
}

/** Until the sequencer and the tailer are idle (a sequencer run may start a tailer run). */
async function settled(log: EventLog): Promise<void> {
  for (let i = 0; i < 3; i++) await log.settle();
}

/** Lets pending promise callbacks run, with real or fake timers. */
async function flush(): Promise<void> {
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0);
  else await new Promise((resolve) => setImmediate(resolve));
}

describe('EventLog: start', () => {
  it('starts from the head of the log, so events numbered before start() are not delivered again', async () => {
    const { store, log, received, record } = setup();
    store.commitNumbered(event('app_a', 'test', 'call_1', 1), event('app_a', 'test', 'call_1', 2));
    log.listen('app_a', 'test', record);
    await log.start();
    await settled(log);
    expect(log.head).toBe('2');
    expect(log.lag).toBe(0);

    store.commit(event('app_a', 'test', 'call_1', 3));
    log.kick();
    await settled(log);
    expect(received).toEqual(['app_a:test:evt_call_1_3@3']);
  });

  it('numbers at once the events a process that stopped left unnumbered', async () => {
    const { store, bus, log, received, record } = setup();
    store.commit(event('app_a', 'test', 'call_1', 1), event('app_a', 'test', 'call_2', 1));
    log.listen('app_a', 'test', record);
    await log.start();
    await settled(log);
    expect(store.sequenceCalls).toHaveLength(1);
    expect(bus.published).toEqual(['2']);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1', 'app_a:test:evt_call_2_1@2']);
  });
});

describe('EventLog: the sequencer', () => {
  it('numbers committed events on kick() and, on a bus without NOTIFY, publishes the new head after the run', async () => {
    const { store, bus, log, received, record } = await started();
    log.listen('app_a', 'test', record);
    store.commit(event('app_a', 'test', 'call_1', 1), event('app_a', 'test', 'call_1', 2), event('app_a', 'test', 'call_1', 3));
    log.kick();
    await settled(log);
    expect(store.sequenceCalls.at(-1)).toEqual({ batch: 1_000, channel: null, numbered: 3 });
    expect(bus.published).toEqual(['3']);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1', 'app_a:test:evt_call_1_2@2', 'app_a:test:evt_call_1_3@3']);
    expect(log.head).toBe('3');
  });

  it('on a LISTEN/NOTIFY bus, announces inside the numbering transaction and never publishes', async () => {
    const { store, bus, log, received, record } = await started({ channel: 'calls_gateway_events' });
    log.listen('app_a', 'live', record);
    store.commit(event('app_a', 'live', 'call_1', 1));
    log.kick();
    await settled(log);
    expect(store.sequenceCalls.at(-1)).toEqual({ batch: 1_000, channel: 'calls_gateway_events', numbered: 1 });
    expect(bus.published).toEqual([]);
    expect(received).toEqual(['app_a:live:evt_call_1_1@1']);
  });

  it('numbers a backlog larger than one batch in several runs of one kick, announcing after each', async () => {
    const { store, bus, log, received, record } = await started({ batch: 2 });
    log.listen('app_a', 'test', record);
    const before = store.sequenceCalls.length;
    store.commit(...[1, 2, 3, 4, 5].map((n) => event('app_a', 'test', 'call_1', n)));
    log.kick();
    await settled(log);
    expect(store.sequenceCalls.slice(before).map((call) => call.numbered)).toEqual([2, 2, 1]);
    expect(bus.published).toEqual(['2', '4', '5']);
    expect(received.map((r) => r.split('@')[1])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('folds the kicks made while a run is in progress into one more run, not one per kick', async () => {
    const { store, log } = await started();
    const before = store.sequenceCalls.length;
    const gate = store.hold('sequence');
    store.commit(event('app_a', 'test', 'call_1', 1));
    log.kick();
    for (let i = 0; i < 9; i++) {
      store.commit(event('app_a', 'test', 'call_1', i + 2));
      log.kick();
    }
    expect(store.sequenceCalls.length - before).toBe(1);
    gate.release();
    await settled(log);
    expect(store.sequenceCalls.slice(before).map((call) => call.numbered)).toEqual([10, 0]);
  });

  it('numbers a write after a quiet spell at once, and runs at most once per sequenceIntervalMs under load', async () => {
    vi.useFakeTimers();
    const { store, log } = setup({ sequenceIntervalMs: 10 });
    await log.start();
    await vi.advanceTimersByTimeAsync(50);
    const before = store.sequenceCalls.length;

    // Quiet: the first write is numbered without waiting.
    store.commit(event('app_a', 'test', 'call_1', 1));
    log.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.sequenceCalls.slice(before).map((call) => call.numbered)).toEqual([1]);

    // Under load: a write every millisecond for 30 ms. The runs start 10 ms apart, each numbering
    // what came since the one before, and nothing waits longer than that.
    for (let i = 2; i <= 31; i++) {
      store.commit(event('app_a', 'test', 'call_1', i));
      log.kick();
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(10);
    const runs = store.sequenceCalls.slice(before).map((call) => call.numbered);
    expect(runs.reduce((sum, numbered) => sum + numbered, 0)).toBe(31);
    expect(runs.length).toBeLessThanOrEqual(5);
    expect(Math.max(...runs.slice(1))).toBeLessThanOrEqual(10);
    await log.stop();
  });

  it('logs a failed run, and the poll numbers the events instead', async () => {
    vi.useFakeTimers();
    const { store, log, logger, received, record } = setup({ pollMs: 1_000 });
    await log.start();
    await vi.advanceTimersByTimeAsync(0);
    log.listen('app_a', 'test', record);
    store.failNext('sequence', 'deadlock detected');
    store.commit(event('app_a', 'test', 'call_1', 1));
    log.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(logger.error).toHaveBeenCalledWith('event sequencer failed; the poll will retry', { error: 'deadlock detected' });
    expect(received).toEqual([]);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1']);
    await log.stop();
  });
});

describe('EventLog: the tailer', () => {
  it('hands each event to the listeners of its own application and mode only, in log order', async () => {
    const { store, log } = await started();
    const seen: Record<string, string[]> = { aTest: [], aLive: [], bTest: [] };
    log.listen('app_a', 'test', (e) => seen.aTest!.push(e.position!));
    log.listen('app_a', 'live', (e) => seen.aLive!.push(e.position!));
    log.listen('app_b', 'test', (e) => seen.bTest!.push(e.position!));
    const headDuringDelivery: string[] = [];
    log.listen('app_a', 'test', () => headDuringDelivery.push(log.head));
    store.commit(
      event('app_a', 'test', 'call_1', 1),
      event('app_b', 'test', 'call_2', 1),
      event('app_a', 'live', 'call_3', 1),
      event('app_a', 'test', 'call_1', 2),
      event('app_c', 'test', 'call_4', 1),
      event('app_b', 'test', 'call_2', 2),
    );
    log.kick();
    await settled(log);
    expect(seen).toEqual({ aTest: ['1', '4'], aLive: ['3'], bTest: ['2', '6'] });
    // `head` is the newest position delivered, also while a listener runs.
    expect(headDuringDelivery).toEqual(['1', '4']);
    expect(log.head).toBe('6');
  });

  it('reads the log in pages of `batch`, each from the tail, until a short page', async () => {
    const { store, bus, log, received, record } = await started({ batch: 2 });
    log.listen('app_a', 'test', record);
    store.commitNumbered(...[1, 2, 3, 4, 5].map((n) => event('app_a', 'test', 'call_1', n)));
    const before = store.afterCalls.length;
    bus.announce(null);
    await settled(log);
    expect(store.afterCalls.slice(before)).toEqual([
      { position: '0', limit: 2 },
      { position: '2', limit: 2 },
      { position: '4', limit: 2 },
    ]);
    expect(received.map((r) => r.split('@')[1])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('folds the announcements that arrive during a read into one more read, and delivers each event once', async () => {
    const { store, bus, log, received, record } = await started({ channel: 'calls_gateway_events' });
    log.listen('app_a', 'test', record);
    store.commitNumbered(event('app_a', 'test', 'call_1', 1));
    const before = store.afterCalls.length;
    const gate = store.hold('after');
    bus.announce('1');
    for (let n = 2; n <= 5; n++) {
      store.commitNumbered(event('app_a', 'test', 'call_1', n));
      bus.announce(String(n));
    }
    gate.release();
    await settled(log);
    expect(store.afterCalls.length - before).toBe(2);
    expect(received.map((r) => r.split('@')[1])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('on a NOTIFY bus, ignores announcements at or below what it has delivered, but still tells advance listeners', async () => {
    const { store, bus, log, record } = setup({ channel: 'calls_gateway_events' });
    store.commitNumbered(event('app_a', 'test', 'call_1', 1), event('app_a', 'test', 'call_1', 2), event('app_a', 'test', 'call_1', 3));
    await log.start();
    await settled(log);
    log.listen('app_a', 'test', record);
    const advanced = vi.fn();
    log.onAdvance(advanced);
    const before = store.afterCalls.length;
    bus.announce('2');
    bus.announce('3');
    await settled(log);
    expect(store.afterCalls.length - before).toBe(0);
    expect(advanced).toHaveBeenCalledTimes(2);
  });

  it('catches up from the log after a reconnect (a null announcement), even on a NOTIFY bus', async () => {
    const { store, bus, log, received, record } = await started({ channel: 'calls_gateway_events' });
    log.listen('app_a', 'test', record);
    store.commitNumbered(event('app_a', 'test', 'call_1', 1));
    bus.announce(null);
    await settled(log);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1']);
  });

  it('with nobody listening, moves the tail to the head without reading any event', async () => {
    const { store, bus, log } = await started();
    store.commitNumbered(...[1, 2, 3].map((n) => event('app_a', 'test', 'call_1', n)));
    bus.announce(null);
    await settled(log);
    expect(store.afterCalls).toEqual([]);
    expect(log.head).toBe('3');
    expect(log.lag).toBe(0);
  });

  it('does not trust a position from a bus without NOTIFY (another database on a shared Redis channel): the tail never jumps past this log', async () => {
    const { store, bus, log, received, record } = await started();
    store.commitNumbered(...[1, 2, 3].map((n) => event('app_a', 'test', 'call_1', n)));
    bus.announce('1000');
    await settled(log);
    expect(log.head).toBe('3');
    expect(log.lag).toBe(0);

    log.listen('app_a', 'test', record);
    store.commitNumbered(event('app_a', 'test', 'call_1', 4), event('app_a', 'test', 'call_1', 5));
    bus.announce(null);
    await settled(log);
    expect(received.map((r) => r.split('@')[1])).toEqual(['4', '5']);
  });

  it('does not skip the tail past events for a listener that arrived while the head was being read', async () => {
    const { store, bus, log, received, record } = await started();
    store.commitNumbered(...[1, 2, 3].map((n) => event('app_a', 'test', 'call_1', n)));
    const gate = store.hold('head');
    bus.announce(null);
    await flush();
    // A stream starts listening (and replays up to some point) while the tailer awaits the head.
    log.listen('app_a', 'test', record);
    gate.release();
    await settled(log);
    expect(received.map((r) => r.split('@')[1])).toEqual(['1', '2', '3']);
  });

  it('reports as lag the events announced but not delivered yet, and never a negative lag', async () => {
    const { store, bus, log, record } = await started({ channel: 'calls_gateway_events' });
    log.listen('app_a', 'test', record);
    store.commitNumbered(...[1, 2, 3, 4, 5].map((n) => event('app_a', 'test', 'call_1', n)));
    const gate = store.hold('after');
    bus.announce('5');
    expect(log.lag).toBe(5);
    gate.release();
    await settled(log);
    expect(log.lag).toBe(0);
    expect(log.head).toBe('5');

    // The tail may pass the newest announced position (the read takes what is there): still 0.
    store.commitNumbered(...[6, 7, 8].map((n) => event('app_a', 'test', 'call_1', n)));
    bus.announce('6');
    await settled(log);
    expect(log.head).toBe('8');
    expect(log.lag).toBe(0);
  });

  it('logs a listener that throws, and still delivers that event to the other listeners and later events to all', async () => {
    const { store, log, logger } = await started();
    const first: string[] = [];
    const second: string[] = [];
    log.listen('app_a', 'test', (e) => {
      first.push(e.position!);
      if (e.position === '1') throw new Error('socket gone');
    });
    log.listen('app_a', 'test', (e) => second.push(e.position!));
    store.commit(event('app_a', 'test', 'call_1', 1), event('app_a', 'test', 'call_1', 2));
    log.kick();
    await settled(log);
    expect(first).toEqual(['1', '2']);
    expect(second).toEqual(['1', '2']);
    expect(logger.error).toHaveBeenCalledWith('event listener failed', { error: 'socket gone' });
  });

  it('logs a failed read, and the poll reads again from the same tail', async () => {
    vi.useFakeTimers();
    const { store, bus, log, logger, received, record } = setup({ pollMs: 1_000 });
    await log.start();
    await vi.advanceTimersByTimeAsync(0);
    log.listen('app_a', 'test', record);
    store.commitNumbered(event('app_a', 'test', 'call_1', 1));
    store.failNext('after', 'read timeout');
    bus.announce(null);
    await vi.advanceTimersByTimeAsync(0);
    expect(logger.error).toHaveBeenCalledWith('event tailer failed; the poll will retry', { error: 'read timeout' });
    expect(received).toEqual([]);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1']);
    await log.stop();
  });
});

describe('EventLog: listeners', () => {
  it('counts listeners over every tenant, and an unsubscribe stops delivery and may be called twice', async () => {
    const { store, log } = await started();
    const got: string[] = [];
    const offA1 = log.listen('app_a', 'test', (e) => got.push(`a1:${e.position}`));
    const offA2 = log.listen('app_a', 'test', (e) => got.push(`a2:${e.position}`));
    const offB = log.listen('app_b', 'live', (e) => got.push(`b:${e.position}`));
    expect(log.listenerCount).toBe(3);

    offA1();
    offA1();
    expect(log.listenerCount).toBe(2);
    store.commit(event('app_a', 'test', 'call_1', 1), event('app_b', 'live', 'call_2', 1));
    log.kick();
    await settled(log);
    expect(got).toEqual(['a2:1', 'b:2']);

    offA2();
    offB();
    expect(log.listenerCount).toBe(0);
  });

  it('a stale unsubscribe does not remove the listeners that joined the tenant after it emptied', async () => {
    const { store, log } = await started();
    const off = log.listen('app_a', 'test', () => {});
    off();
    const got: string[] = [];
    log.listen('app_a', 'test', (e) => got.push(e.position!));
    off();
    expect(log.listenerCount).toBe(1);
    store.commit(event('app_a', 'test', 'call_1', 1));
    log.kick();
    await settled(log);
    expect(got).toEqual(['1']);
  });
});

describe('EventLog: the poll', () => {
  it('delivers events whose announcement was lost, numbers events left unnumbered, and tells advance listeners', async () => {
    vi.useFakeTimers();
    const { store, log, received, record } = setup({ pollMs: 1_000 });
    await log.start();
    await vi.advanceTimersByTimeAsync(0);
    log.listen('app_a', 'test', record);
    const advanced = vi.fn();
    log.onAdvance(advanced);
    store.commitNumbered(event('app_a', 'test', 'call_1', 1));
    store.commit(event('app_a', 'test', 'call_2', 1));
    await vi.advanceTimersByTimeAsync(999);
    expect(received).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1', 'app_a:test:evt_call_2_1@2']);

    // Every tick tells them, even with nothing new: webhook fan-out reads the log itself.
    advanced.mockClear();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(advanced).toHaveBeenCalledTimes(1);
    await log.stop();
  });

  it('is silent when the database is unreachable, and the next tick tries again', async () => {
    vi.useFakeTimers();
    const { store, log, logger, received, record } = setup({ pollMs: 1_000 });
    await log.start();
    await vi.advanceTimersByTimeAsync(0);
    log.listen('app_a', 'test', record);
    store.commitNumbered(event('app_a', 'test', 'call_1', 1));
    store.failNext('hasUnsequenced');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(received).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(received).toEqual(['app_a:test:evt_call_1_1@1']);
    await log.stop();
  });
});

describe('EventLog: stop', () => {
  it('after stop(), kicks, announcements and poll ticks neither number nor read', async () => {
    vi.useFakeTimers();
    const { store, bus, log, received, record } = setup({ pollMs: 1_000 });
    await log.start();
    await vi.advanceTimersByTimeAsync(0);
    log.listen('app_a', 'test', record);
    await log.stop();
    const sequenced = store.sequenceCalls.length;
    const heads = store.headCalls;

    store.commit(event('app_a', 'test', 'call_1', 1));
    store.commitNumbered(event('app_a', 'test', 'call_2', 1));
    log.kick();
    bus.announce(null);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(store.sequenceCalls.length).toBe(sequenced);
    expect(store.headCalls).toBe(heads);
    expect(store.afterCalls).toEqual([]);
    expect(received).toEqual([]);
  });

  it('waits for the run under way, and does not log its failure during shutdown', async () => {
    const { store, log, logger } = await started();
    const gate = store.hold('sequence');
    log.kick();
    let stopped = false;
    const stopping = log.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    gate.fail(new Error('terminating connection due to administrator command'));
    await stopping;
    expect(stopped).toBe(true);
    expect(logger.error).not.toHaveBeenCalled();
  });
});
