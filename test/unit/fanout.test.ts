import { buildSchema, parse, type ExecutionArgs, type ExecutionResult, type GraphQLFieldResolver } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { CallStatus, type Mode, type Tenant } from '../../src/domain/call.js';
import type { CallEventWithCall, CallFilter } from '../../src/domain/call-store.js';
import type { Logger } from '../../src/domain/logger.js';
import type { DeliveryMark, StreamRequest } from '../../src/events/call-event-stream.js';
import type { EventLog } from '../../src/events/event-log.js';
import type { Executor } from '../../src/graphql/executor.js';
import { FanoutHub } from '../../src/graphql/fanout.js';
import type { SocketOperation } from '../../src/graphql/shared-execution.js';
import { FakeEventLog, testEvent } from './fixtures.js';

const A: Tenant = { appId: 'app_a', mode: 'test' };

function ev(callId: string, position: number, options: { status?: CallStatus; appId?: string; mode?: Mode } = {}): CallEventWithCall {
  const { status = CallStatus.RINGING, appId = A.appId, mode = A.mode } = options;
  return testEvent({ id: callId, appId, mode, status }, { id: `evt_${position}`, sequence: position, position });
}

/** A subscriber's dedupe rule, by log position, like a tenant stream's. */
class Mark implements DeliveryMark {
  constructor(public last = 0) {}
  isNew(event: CallEventWithCall): boolean {
    return Number(event.position) > this.last;
  }
  sent(event: CallEventWithCall): void {
    this.last = Number(event.position);
  }
}

class Operation implements SocketOperation {
  readonly frames: string[] = [];
  constructor(readonly id: string) {}
  /** Each frame as the client reads it: UTF-8 text. */
  send(data: string | Buffer): void {
    this.frames.push(typeof data === 'string' ? data : data.toString('utf8'));
  }
  /** The positions of the events sent, read back from the frames. */
  get positions(): number[] {
    return this.frames.map((frame) => (JSON.parse(frame) as { payload: { data: { position: number } } }).payload.data.position);
  }
}

const schema = buildSchema(`
  type Query { ok: Boolean }
  type Subscription { callStatus: Event }
  type Event { id: ID!, position: String!, status: String! }
`);
const document = parse('subscription { callStatus { id position status } }');

function request(overrides: Partial<StreamRequest> = {}): StreamRequest {
  return { tenant: A, callId: null, filter: {}, after: null, ...overrides };
}

/** Flushes the group's delivery chain (promise callbacks only; no timers involved). */
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: { production?: boolean; run?: Executor } = {}) {
  const log = new FakeEventLog();
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger;
  const executions: { position: string; context: unknown }[] = [];
  const run =
    options.run ??
    vi.fn((args: ExecutionArgs): ExecutionResult => {
      const event = args.rootValue as CallEventWithCall;
      executions.push({ position: event.position!, context: args.contextValue });
      return { data: { position: Number(event.position), status: event.status } };
    });
  const hub = new FanoutHub(log as unknown as EventLog, options.production ?? false, logger, run);
  let operations = 0;
  /** A subscription of `key` whose replay is done: it joins the group of its tenant and key. */
  const join = (key: string, req: StreamRequest = request(), mark: DeliveryMark = new Mark(), args: Partial<ExecutionArgs> = {}) => {
    const operation = new Operation(`op${++operations}`);
    const leave = hub.sink({ schema, document, ...args }, key, operation).attach(req, mark);
    return { operation, leave, mark };
  };
  return { log, logger, hub, run, executions, join };
}

describe('FanoutHub groups', () => {
  it('puts subscriptions of one tenant with the same key in one group that listens to the log once', () => {
    const { log, hub, join } = setup();
    join('sel-1');
    join('sel-1');
    join('sel-1');
    expect(hub.groupCount).toBe(1);
    expect(hub.memberCount).toBe(3);
    expect(log.listenerCount).toBe(1);
  });

  it('makes separate groups for another key, another application or another mode', () => {
    const { log, hub, join } = setup();
    join('sel-1');
    join('sel-2');
    join('sel-1', request({ tenant: { appId: 'app_b', mode: 'test' } }));
    join('sel-1', request({ tenant: { appId: 'app_a', mode: 'live' } }));
    join('sel-1');
    expect(hub.groupCount).toBe(4);
    expect(hub.memberCount).toBe(5);
    expect(log.listenerCount).toBe(4);
  });

  it('executes each event once per group and writes the same payload to every member, as a graphql-transport-ws next message', async () => {
    const { log, run, join } = setup();
    const members = [join('sel-1'), join('sel-1'), join('sel-1')];
    const other = join('sel-2');
    log.emit(ev('call_1', 1), ev('call_1', 2));
    await flush();
    expect(run).toHaveBeenCalledTimes(4);
    for (const { operation } of members) {
      expect(operation.frames.map((frame) => JSON.parse(frame))).toEqual([
        { id: operation.id, type: 'next', payload: { data: { position: 1, status: 'ringing' } } },
        { id: operation.id, type: 'next', payload: { data: { position: 2, status: 'ringing' } } },
      ]);
    }
    expect(members[1]!.operation.frames[0]!.slice('{"id":"op2"'.length)).toBe(members[0]!.operation.frames[0]!.slice('{"id":"op1"'.length));
    expect(other.operation.positions).toEqual([1, 2]);
  });

  it("writes, byte for byte, graphql-ws's own next message (stringifyMessage), whatever the id and the payload's characters", async () => {
    const status = 'ringing é 🙂 \u2028 "quoted" \\';
    const { log, hub } = setup({ run: (args) => ({ data: { position: Number((args.rootValue as CallEventWithCall).position), status } }) });
    const operations = ['op1', 'a"b\\c', 'é🙂', '\u2028', 'x'.repeat(200)].map((id) => new Operation(id));
    for (const operation of operations) hub.sink({ schema, document }, 'sel-1', operation).attach(request(), new Mark());
    log.emit(ev('call_1', 1));
    await flush();
    for (const operation of operations) {
      expect(operation.frames).toEqual([stringifyMessage({ id: operation.id, type: MessageType.Next, payload: { data: { position: 1, status } } })]);
    }
  });

  it('escapes the operation id in the frame', async () => {
    const { log, hub } = setup();
    const operation = new Operation('a"b\\c');
    hub.sink({ schema, document }, 'sel-1', operation).attach(request(), new Mark());
    log.emit(ev('call_1', 1));
    await flush();
    expect((JSON.parse(operation.frames[0]!) as { id: string }).id).toBe('a"b\\c');
  });

  it('executes only the events of its call and filter, taken from the request of the member that made it', async () => {
    const { log, executions, join } = setup();
    const filter: CallFilter = { status: [CallStatus.COMPLETED] };
    const { operation } = join('sel-1', request({ callId: 'call_1', filter }));
    log.emit(
      ev('call_1', 1, { status: CallStatus.RINGING }),
      ev('call_2', 2, { status: CallStatus.COMPLETED }),
      ev('call_1', 3, { status: CallStatus.COMPLETED }),
      ev('call_1', 4, { status: CallStatus.COMPLETED, appId: 'app_b' }),
    );
    await flush();
    expect(executions.map((e) => e.position)).toEqual(['3']);
    expect(operation.positions).toEqual([3]);
  });

  it('delivers in log order even when a later event’s execution finishes first', async () => {
    const pending = new Map<string, (result: ExecutionResult) => void>();
    const run: Executor = (args) => {
      const event = args.rootValue as CallEventWithCall;
      return new Promise<ExecutionResult>((resolve) => pending.set(event.position!, resolve));
    };
    const { log, join } = setup({ run });
    const { operation } = join('sel-1');
    log.emit(ev('call_1', 1), ev('call_1', 2));
    await flush();
    // Each event is sent to every member before the next one: the second is not even executing yet.
    expect([...pending.keys()]).toEqual(['1']);
    pending.get('1')!({ data: { position: 1 } });
    await flush();
    pending.get('2')!({ data: { position: 2 } });
    await flush();
    expect(operation.positions).toEqual([1, 2]);
  });
});

describe('FanoutHub members', () => {
  it('each member keeps its own dedupe mark: one that joined after its replay skips what it already had', async () => {
    const { log, run, join } = setup();
    const early = join('sel-1', request(), new Mark(0));
    const late = join('sel-1', request(), new Mark(5));
    log.emit(ev('call_1', 4), ev('call_1', 5), ev('call_1', 6));
    await flush();
    expect(run).toHaveBeenCalledTimes(3);
    expect(early.operation.positions).toEqual([4, 5, 6]);
    expect(late.operation.positions).toEqual([6]);
    expect((early.mark as Mark).last).toBe(6);
    expect((late.mark as Mark).last).toBe(6);
  });

  it('a member that leaves gets nothing more; the last one to leave closes the group, which stops listening and executing', async () => {
    const { log, hub, run, join } = setup();
    const first = join('sel-1');
    const second = join('sel-1');
    log.emit(ev('call_1', 1));
    await flush();
    first.leave();
    expect(hub.memberCount).toBe(1);
    expect(hub.groupCount).toBe(1);
    log.emit(ev('call_1', 2));
    await flush();
    expect(first.operation.positions).toEqual([1]);
    expect(second.operation.positions).toEqual([1, 2]);

    second.leave();
    expect(hub.groupCount).toBe(0);
    expect(hub.memberCount).toBe(0);
    expect(log.listenerCount).toBe(0);
    log.emit(ev('call_1', 3));
    await flush();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('an event in execution goes to the members present when it completes: not to one that left, to one that joined', async () => {
    let finish!: (result: ExecutionResult) => void;
    const run: Executor = () => new Promise<ExecutionResult>((resolve) => (finish = resolve));
    const { log, join } = setup({ run });
    const leaving = join('sel-1');
    const staying = join('sel-1');
    log.emit(ev('call_1', 1));
    await flush();
    leaving.leave();
    const joining = join('sel-1');
    finish({ data: { position: 1 } });
    await flush();
    expect(leaving.operation.frames).toEqual([]);
    expect(staying.operation.positions).toEqual([1]);
    expect(joining.operation.positions).toEqual([1]);
  });

  it('after the group closed, the same key makes a new group that listens again', async () => {
    const { log, hub, join } = setup();
    join('sel-1').leave();
    const again = join('sel-1');
    expect(hub.groupCount).toBe(1);
    expect(log.listenerCount).toBe(1);
    log.emit(ev('call_1', 1));
    await flush();
    expect(again.operation.positions).toEqual([1]);
  });

  it('a member’s leave called twice does not close the newer group of the same key', async () => {
    const { log, hub, join } = setup();
    const old = join('sel-1');
    old.leave();
    const current = join('sel-1');
    old.leave();
    expect(hub.groupCount).toBe(1);
    expect(hub.memberCount).toBe(1);
    expect(log.listenerCount).toBe(1);
    log.emit(ev('call_1', 1));
    await flush();
    expect(current.operation.positions).toEqual([1]);
  });

  it('executes with a context of the group’s own (forLiveEvents), never its first member’s', async () => {
    const { log, executions, join } = setup();
    const groupContext = { perEvent: true };
    const forLiveEvents = vi.fn(() => groupContext);
    const memberContext = { forLiveEvents, socketOperation: 'first member' };
    const first = join('sel-1', request(), new Mark(), { contextValue: memberContext });
    join('sel-1', request(), new Mark(), { contextValue: { forLiveEvents: () => ({ wrong: true }) } });
    join('sel-2', request(), new Mark(), { contextValue: { plain: true } });
    log.emit(ev('call_1', 1));
    await flush();
    expect(forLiveEvents).toHaveBeenCalledTimes(1);
    expect(executions.map((e) => e.context)).toEqual([groupContext, { plain: true }]);
    expect(first.operation.positions).toEqual([1]);
  });
});

describe('FanoutHub errors', () => {
  it('logs an execution that throws or rejects, sends nothing for that event, and delivers the next ones', async () => {
    const run: Executor = (args) => {
      const event = args.rootValue as CallEventWithCall;
      if (event.position === '1') throw new Error('resolver crashed');
      if (event.position === '2') return Promise.reject(new Error('loader failed'));
      return { data: { position: Number(event.position) } };
    };
    const { log, logger, join } = setup({ run });
    const { operation, mark } = join('sel-1');
    log.emit(ev('call_1', 1), ev('call_1', 2), ev('call_1', 3));
    await flush();
    expect(logger.error.mock.calls).toEqual([
      ['live delivery failed', { error: 'resolver crashed' }],
      ['live delivery failed', { error: 'loader failed' }],
    ]);
    expect(operation.positions).toEqual([3]);
    expect((mark as Mark).last).toBe(3);
  });

  it('a member whose socket throws is logged; the members after it still get the event', async () => {
    const { log, logger, hub, join } = setup();
    const before = join('sel-1');
    const broken = new Operation('broken');
    broken.send = () => {
      throw new Error('write after end');
    };
    hub.sink({ schema, document }, 'sel-1', broken).attach(request(), new Mark());
    const after = join('sel-1');
    log.emit(ev('call_1', 1), ev('call_1', 2));
    await flush();
    expect(before.operation.positions).toEqual([1, 2]);
    expect(after.operation.positions).toEqual([1, 2]);
    expect(logger.error).toHaveBeenCalledWith('live delivery to a subscriber failed', { error: 'write after end' });
  });

  describe('with graphql-js executing the selection', () => {
    const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, _args, _context, info) => {
      if (info.fieldName === 'callStatus') return source;
      if (info.fieldName === 'status' && (source as CallEventWithCall).status === CallStatus.FAILED)
        throw new Error('secret detail: relation "call" does not exist');
      return (source as Record<string, unknown>)[info.fieldName];
    };

    async function frames(production: boolean): Promise<unknown[]> {
      const log = new FakeEventLog();
      // No executor given: graphql-js's execute.
      const hub = new FanoutHub(log as unknown as EventLog, production, { info() {}, warn() {}, error() {} });
      const operation = new Operation('op1');
      hub.sink({ schema, document, fieldResolver }, 'sel-1', operation).attach(request(), new Mark());
      log.emit(ev('call_1', 1), ev('call_1', 2, { status: CallStatus.FAILED }));
      await flush();
      return operation.frames.map((frame) => JSON.parse(frame));
    }

    it('sends the data of the selection', async () => {
      const [first] = await frames(true);
      expect(first).toEqual({ id: 'op1', type: 'next', payload: { data: { callStatus: { id: 'evt_1', position: '1', status: 'ringing' } } } });
    });

    it('hides the message of an unexpected error in production', async () => {
      const [, second] = await frames(true);
      expect(second).toMatchObject({ id: 'op1', type: 'next', payload: { data: { callStatus: null } } });
      const errors = (second as { payload: { errors: { message: string; path: string[]; extensions: { code: string } }[] } }).payload.errors;
      expect(errors).toEqual([
        {
          message: 'Internal server error',
          locations: [{ line: 1, column: 41 }],
          path: ['callStatus', 'status'],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
    });

    it('keeps the message of an unexpected error outside production', async () => {
      const [, second] = await frames(false);
      const errors = (second as { payload: { errors: { message: string; extensions: { code: string } }[] } }).payload.errors;
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toBe('secret detail: relation "call" does not exist');
      expect(errors[0]!.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    });
  });
});
