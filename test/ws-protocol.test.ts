import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { buildSchema, parse, validate, type GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { bootGateway, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';

/**
 * The gateway speaks graphql-transport-ws with a server of its own (src/server/ws.ts), not
 * graphql-ws's makeServer. Its reference is graphql-ws itself: every exchange below is played
 * against the gateway and against graphql-ws's `useServer` (same init timeout, a key check of the
 * same outcome, a schema with the same root fields), and what each answers (frames, close code
 * and reason) must be the same. A difference on either side alone fails here.
 */
const INIT_TIMEOUT_MS = 300;

let gw: TestGateway;
let app: TestApp;
let reference: { url: string; close(): Promise<void> };

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', env: { WS_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS) } });
  app = await newApp(gw.admin);
  reference = await referenceServer(`Bearer ${app.testKey}`);
});
afterAll(async () => {
  await reference?.close();
  await gw?.stop();
});

/** graphql-ws's own server over `ws`: a subscription that never yields, as an idle callStatus. */
async function referenceServer(authorization: string): Promise<{ url: string; close(): Promise<void> }> {
  const schema = buildSchema(`
    type Query { calls: String }
    type CallStatusEvent { sequence: Int }
    type Subscription { callStatus: CallStatusEvent }
  `);
  const idle = {
    callStatus: () => {
      let end: (value: IteratorResult<never>) => void = () => {};
      return {
        next: () => new Promise<IteratorResult<never>>((resolve) => (end = resolve)),
        return: async () => (end({ done: true, value: undefined }), { done: true as const, value: undefined }),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const disposable = useServer(
    {
      schema,
      roots: { subscription: idle as never },
      // A document that does not parse or validate is answered with an error frame, as the
      // gateway does (graphql-ws's default parse would throw and close the socket with 4500).
      onSubscribe: (_ctx, _id, payload) => {
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        return errors.length > 0 ? errors : { schema, document, variableValues: payload.variables, operationName: payload.operationName };
      },
      connectionInitWaitTimeout: INIT_TIMEOUT_MS,
      onConnect: (ctx) => ctx.connectionParams?.authorization === authorization,
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Step = { send: unknown } | { raw: string } | { until: string } | { wait: number };

/** What a server answered to a script: its frames (error frames by their messages) and how the socket closed. */
async function play(url: string, steps: Step[], protocol = 'graphql-transport-ws'): Promise<unknown[]> {
  const seen: unknown[] = [];
  const socket = new WebSocket(url, protocol);
  let closed = false;
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((check) => check());
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
    seen.push(message.type === 'error' ? { ...message, payload: (message.payload as { message: string }[]).map((error) => error.message) } : message);
    notify();
  });
  socket.on('error', () => {});
  socket.on('close', (code, reason) => {
    closed = true;
    // graphql-ws's use/ws puts the error's text in a 4500's reason outside production: the code is the protocol's.
    seen.push({ close: code, reason: code === 4500 ? '' : String(reason) });
    notify();
  });
  const until = (done: () => boolean, ms: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done() && !closed) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => (waiters.delete(check), resolve()), ms);
      waiters.add(check);
      check();
    });
  await new Promise<void>((resolve) => (socket.once('open', () => resolve()), socket.once('close', () => resolve())));
  for (const step of steps) {
    if (closed) break;
    if ('send' in step) socket.send(JSON.stringify(step.send));
    else if ('raw' in step) socket.send(step.raw);
    else if ('until' in step) await until(() => seen.some((message) => (message as { type?: string }).type === step.until), 3000);
    else await new Promise((resolve) => setTimeout(resolve, step.wait));
  }
  // Then whatever else comes within a quiet moment, or the close.
  await until(() => false, 300);
  const answered = [...seen];
  socket.terminate();
  return answered;
}

const init = (authorization?: string) => ({ send: { type: 'connection_init', payload: { authorization } } });
const acked = (key: () => string) => [init(`Bearer ${key()}`), { until: 'connection_ack' }];
const subscribe = (id: string, query: string) => ({ send: { id, type: 'subscribe', payload: { query } } });
const SUBSCRIPTION = 'subscription { callStatus { sequence } }';

const key = () => app.testKey;
const scripts: Record<string, { steps: () => Step[]; protocol?: string }> = {
  'a subprotocol other than graphql-transport-ws': { steps: () => [{ wait: 50 }], protocol: 'graphql-ws' },
  'no connection_init in time': { steps: () => [{ wait: INIT_TIMEOUT_MS + 200 }] },
  'a message that is not JSON': { steps: () => [{ raw: 'not json' }] },
  'a message of an unknown type': { steps: () => [{ send: { type: 'hello' } }] },
  'subscribe before connection_init': { steps: () => [subscribe('1', '{ __typename }')] },
  'connection_init twice': { steps: () => [...acked(key), init(`Bearer ${key()}`)] },
  'a key that is refused': { steps: () => [init('Bearer sk_test_nope')] },
  'connection_init without a payload': { steps: () => [{ send: { type: 'connection_init' } }] },
  'ping with and without a payload, and a pong': {
    steps: () => [...acked(key), { send: { type: 'ping', payload: { at: 1 } } }, { send: { type: 'ping' } }, { send: { type: 'pong' } }],
  },
  'ping before connection_init, then no connection_init in time': {
    steps: () => [{ send: { type: 'ping' } }, { until: 'pong' }, { wait: INIT_TIMEOUT_MS + 200 }],
  },
  'a query: next, then complete': { steps: () => [...acked(key), subscribe('q', '{ __typename }'), { until: 'complete' }] },
  'a document that does not parse': { steps: () => [...acked(key), subscribe('s', '{'), { until: 'error' }] },
  'a document that does not validate': { steps: () => [...acked(key), subscribe('v', '{ nosuchfield }'), { until: 'error' }] },
  'an id already in use': { steps: () => [...acked(key), subscribe('a', SUBSCRIPTION), subscribe('a', SUBSCRIPTION)] },
  'an id used again once completed': {
    steps: () => [
      ...acked(key),
      subscribe('a', SUBSCRIPTION),
      { wait: 100 },
      { send: { id: 'a', type: 'complete' } },
      { wait: 100 },
      subscribe('a', '{ __typename }'),
      { until: 'complete' },
    ],
  },
  'complete of an unknown id': { steps: () => [...acked(key), { send: { id: 'zz', type: 'complete' } }, { send: { type: 'ping' } }, { until: 'pong' }] },
  'subscribe whose query is not a string': { steps: () => [...acked(key), { send: { id: '1', type: 'subscribe', payload: { query: 5 } } }] },
  'subscribe with an empty id': { steps: () => [...acked(key), subscribe('', '{ __typename }')] },
  'subscribe whose variables are not an object': {
    steps: () => [...acked(key), { send: { id: '1', type: 'subscribe', payload: { query: '{ __typename }', variables: [1] } } }],
  },
  'a message only a server sends': { steps: () => [...acked(key), { send: { id: '1', type: 'next', payload: {} } }] },
  'connection_ack from the client': { steps: () => [...acked(key), { send: { type: 'connection_ack' } }] },
};

describe('graphql-transport-ws: the gateway answers as graphql-ws does', () => {
  for (const [name, script] of Object.entries(scripts)) {
    it(name, async () => {
      const ours = await play(gw.wsUrl, script.steps(), script.protocol);
      const theirs = await play(reference.url, script.steps(), script.protocol);
      expect(ours).toEqual(theirs);
    });
  }
});

describe('graphql-transport-ws: where the gateway departs from graphql-ws', () => {
  it('an id used again at once after its complete: the new operation runs, and no complete of the old one is sent', async () => {
    // graphql-ws (6.x) sends the completed operation's `complete` once its stream has ended, if an
    // operation of that id exists by then, and its cleanup removes the new operation's entry: the
    // new query then gets no `next`. Here each operation's end concerns that operation only.
    const steps = () => [
      ...acked(key),
      subscribe('a', SUBSCRIPTION),
      { wait: 100 },
      { send: { id: 'a', type: 'complete' } },
      subscribe('a', '{ __typename }'),
      { until: 'complete' },
    ];
    expect(await play(gw.wsUrl, steps())).toEqual([
      { type: 'connection_ack' },
      { id: 'a', type: 'next', payload: { data: { __typename: 'Query' } } },
      { id: 'a', type: 'complete' },
    ]);
  });
});

describe('a socket closed while the gateway checks it', () => {
  let gw2: TestGateway;
  let app2: TestApp;
  beforeAll(async () => {
    // Every key looked up in the database (no cache), so each check takes a while; two sockets and two operations per key.
    gw2 = await bootGateway({ simulator: 'frozen', env: { WS_MAX_CONNECTIONS_PER_KEY: '2', WS_MAX_OPERATIONS_PER_KEY: '2' }, config: { authCacheTtlMs: 0 } });
    app2 = await newApp(gw2.admin);
  });
  afterAll(() => gw2?.stop());

  /** Opens a socket, sends `messages` and cuts the socket in the same tick. */
  const sendAndCut = (messages: unknown[]) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(gw2.wsUrl, 'graphql-transport-ws');
      socket.once('error', reject);
      socket.once('open', () => {
        for (const message of messages) socket.send(JSON.stringify(message));
        socket.terminate();
      });
      socket.once('close', () => resolve());
    });

  it('is not counted against its key: ten cut during connection_init, then two sockets with two subscriptions still fit', async () => {
    const init = { type: 'connection_init', payload: { authorization: `Bearer ${app2.testKey}` } };
    for (let i = 0; i < 10; i++) await sendAndCut([init]);
    // Cut during subscribe: the operation's place is given back too.
    for (let i = 0; i < 10; i++) await sendAndCut([init, { id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Two sockets at once (the key's cap), the second with two subscriptions (the key's cap): none refused.
    const first = play(gw2.wsUrl, [{ send: init }, { until: 'connection_ack' }, { wait: 500 }]);
    const second = play(gw2.wsUrl, [{ send: init }, { until: 'connection_ack' }, subscribe('1', SUBSCRIPTION), subscribe('2', SUBSCRIPTION), { wait: 300 }]);
    expect(await Promise.all([first, second])).toEqual([[{ type: 'connection_ack' }], [{ type: 'connection_ack' }]]);
  });
});
