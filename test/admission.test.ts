import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, holdStatements, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';

// Operation admission is one ordered sequence in the pipeline (server/pipeline.ts) that every
// transport runs. Each refusal is sent over POST, GET and WebSocket: the same code (and message
// where the pipeline writes one) on each, the matching HTTP status or close code, and nothing runs.
const KEYS = `k1:${'a'.repeat(40)}`;
const ALLOWED = 'http://127.0.0.2:5173';
const THEIRS = 'http://127.0.0.3:5173';
const LIMIT = 10;
const STATS = `query Stats($from: DateTime!, $to: DateTime!) { callStats(from: $from, to: $to) { total { count } } }`;
const month = { from: new Date(Date.now() - 30 * 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({
    simulator: 'frozen',
    env: {
      ACCESS_TOKEN_KEYS: KEYS,
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      // A token may spend its key's whole rate here (each test's tokens send a handful of requests).
      RATE_LIMIT_TOKEN_SHARE: '100',
      HEAVY_READS_PER_APPLICATION: '1',
      HEAVY_READS_WAITING: '0',
      MAX_REQUEST_BYTES: '4096',
      WS_MAX_PAYLOAD_BYTES: '4096',
    },
  });
  // An application that allows THEIRS, so that origin passes the WebSocket upgrade and is refused by the key's application.
  await gw.admin.setOrigins((await newApp(gw.admin, 'theirs')).id, [THEIRS]);
});
afterAll(() => gw?.stop());

interface Request {
  bearer: string | null;
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  origin?: string;
}
type Answer = { status: number; retryAfter: string | null; code: unknown; message: unknown; retryAfterField?: unknown };

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  const body = text ? (JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }) : {};
  const error = body.errors?.[0];
  return { status: response.status, retryAfter: response.headers.get('retry-after'), code: error?.extensions?.code, message: error?.message };
}

function headers(request: Request): Record<string, string> {
  return {
    ...(request.bearer ? { authorization: `Bearer ${request.bearer}` } : {}),
    ...(request.origin ? { origin: request.origin } : {}),
  };
}

async function post(request: Request): Promise<Answer> {
  const body = JSON.stringify({ query: request.query, operationName: request.operationName, variables: request.variables });
  return answerOf(await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers(request) }, body }));
}

async function get(request: Request): Promise<Answer> {
  const search = new URLSearchParams({ query: request.query });
  if (request.operationName) search.set('operationName', request.operationName);
  if (request.variables) search.set('variables', JSON.stringify(request.variables));
  return answerOf(await fetch(`${gw.url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...headers(request) } }));
}

/** One operation over a raw graphql-transport-ws socket: how the socket closed, or the first error or result of the operation. */
function overWebSocket(request: Request): Promise<{ close: number | null; code: unknown; message: unknown; retryAfterField?: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(gw.wsUrl, 'graphql-transport-ws', request.origin ? { headers: { origin: request.origin } } : {});
    const done = (value: { close: number | null; code: unknown; message: unknown; retryAfterField?: unknown }) => {
      socket.removeAllListeners('close');
      socket.close();
      resolve(value);
    };
    socket.once('error', reject);
    socket.once('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: request.bearer ? { authorization: `Bearer ${request.bearer}` } : {} })),
    );
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: any };
      if (message.type === 'connection_ack') {
        const payload = { query: request.query, operationName: request.operationName, variables: request.variables };
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload }));
      } else if (message.type === 'error' || message.type === 'next') {
        const error = (message.type === 'error' ? message.payload : message.payload.errors)?.[0];
        done({ close: null, code: error?.extensions?.code, message: error?.message, retryAfterField: error?.extensions?.retryAfter });
      }
    });
    socket.once('close', (code) => resolve({ close: code, code: undefined, message: undefined }));
  });
}

async function token(app: TestApp, scopes: string[]): Promise<string> {
  const response = await rawGql(gw.url, app.testKey, {
    query: `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }`,
    variables: { input: { scopes } },
  });
  return response.data.createAccessToken.token as string;
}

/** Operations the gateway counted as errors per transport (its /metrics): a refusal is counted once, on every transport. */
async function errorsCounted(): Promise<Record<'http' | 'ws', number>> {
  const text = await (await fetch(`${new URL(gw.url).origin}/metrics`)).text();
  const sum = (transport: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith('graphql_operations_total{') && line.includes('outcome="error"') && line.includes(`transport="${transport}"`))
      .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
  return { http: sum('http'), ws: sum('ws') };
}

interface Refusal {
  /** The request, made for a fresh application (its own rate-limit budget). */
  setup(app: TestApp): Promise<{ request: Request; release?: () => void }>;
  code: string;
  http: number;
  /** WebSocket: the close code, or the operation's error frame (null). */
  close: number | null;
  /** Whether the three transports give the same message (the pipeline writes it). */
  sameMessage?: boolean;
  retryAfter?: boolean;
  /** GET, where it differs by nature (a URL too long for the server). */
  get?: { http: number; code?: string };
}

const plain = '{ calls(first: 1) { nodes { id } } }';
const REFUSALS: [string, Refusal][] = [
  ['no key', { setup: async () => ({ request: { bearer: null, query: plain } }), code: 'UNAUTHENTICATED', http: 401, close: 4403 }],
  [
    'a bad key',
    { setup: async () => ({ request: { bearer: `sk_test_app_${'x'.repeat(40)}`, query: plain } }), code: 'UNAUTHENTICATED', http: 401, close: 4403 },
  ],
  [
    'a foreign origin',
    {
      setup: async (app) => {
        await gw.admin.setOrigins(app.id, [ALLOWED]);
        return { request: { bearer: app.testKey, query: plain, origin: THEIRS } };
      },
      code: 'FORBIDDEN',
      http: 403,
      close: 4403,
    },
  ],
  [
    'rate limited',
    {
      setup: async (app) => {
        for (let i = 0; i < LIMIT; i++) await rawGql(gw.url, app.testKey, { query: '{ __typename }' });
        return { request: { bearer: app.testKey, query: plain } };
      },
      code: 'RATE_LIMITED',
      http: 429,
      close: null,
      sameMessage: true,
      retryAfter: true,
    },
  ],
  [
    'oversized',
    {
      setup: async (app) => ({ request: { bearer: app.testKey, query: `{ calls(first: 1) { nodes { id } } } # ${'x'.repeat(20_000)}` } }),
      code: 'PAYLOAD_TOO_LARGE',
      http: 413,
      close: 1009,
      // Node's own limit on a request's head (16 KiB) refuses the URL before the gateway sees it.
      get: { http: 431 },
    },
  ],
  [
    'an invalid document',
    {
      setup: async (app) => ({ request: { bearer: app.testKey, query: '{ calls(first: 1) { nope } }' } }),
      code: 'GRAPHQL_VALIDATION_FAILED',
      http: 400,
      close: null,
      sameMessage: true,
    },
  ],
  [
    'an unknown operation name',
    {
      setup: async (app) => ({ request: { bearer: app.testKey, query: 'query A { calls(first: 1) { nodes { id } } }', operationName: 'B' } }),
      code: 'OPERATION_RESOLUTION_FAILURE',
      http: 400,
      close: null,
      sameMessage: true,
    },
  ],
  [
    'two operations and no name',
    {
      setup: async (app) => ({ request: { bearer: app.testKey, query: 'query A { calls(first: 1) { nodes { id } } } query B { __typename }' } }),
      code: 'OPERATION_RESOLUTION_FAILURE',
      http: 400,
      close: null,
      sameMessage: true,
    },
  ],
  [
    'a scope the token lacks',
    {
      setup: async (app) => ({ request: { bearer: await token(app, ['STATUS_SUBSCRIBE']), query: plain } }),
      code: 'FORBIDDEN',
      http: 403,
      close: null,
      sameMessage: true,
    },
  ],
  [
    'heavy reads saturated',
    {
      setup: async (app) => {
        const hold = holdStatements(gw, /GROUPING SETS/, app.id);
        const running = rawGql(gw.url, app.testKey, { query: STATS, variables: month });
        await eventually(() => hold.state.entered === 1, 10_000, 'the first read to reach the database');
        return {
          request: { bearer: app.testKey, query: STATS, variables: month },
          release: () => {
            hold.release();
            void running;
          },
        };
      },
      code: 'RATE_LIMITED',
      http: 429,
      close: null,
      sameMessage: true,
      retryAfter: true,
    },
  ],
];

describe('one admission for every transport: each refusal over POST, GET and WebSocket', () => {
  it.each(REFUSALS)('%s', async (name, refusal) => {
    const app = await newApp(gw.admin, 'admission');
    const { request, release } = await refusal.setup(app);
    try {
      const before = gw.gateway.executions;
      const counted = await errorsCounted();
      const overPost = await post(request);
      const overGet = await get(request);
      const overSocket = await overWebSocket(request);

      expect(overPost, 'POST').toMatchObject({ status: refusal.http, code: refusal.code });
      if (refusal.get) expect(overGet, 'GET').toMatchObject({ status: refusal.get.http });
      else expect(overGet, 'GET').toMatchObject({ status: refusal.http, code: refusal.code });
      if (refusal.close !== null) expect(overSocket, 'WebSocket').toMatchObject({ close: refusal.close });
      else expect(overSocket, 'WebSocket').toMatchObject({ close: null, code: refusal.code });

      if (refusal.sameMessage) {
        expect(overGet.message, 'GET and POST say the same').toBe(overPost.message);
        expect(overSocket.message, 'WebSocket and POST say the same').toBe(overPost.message);
      }
      if (refusal.retryAfter) {
        expect(Number(overPost.retryAfter)).toBeGreaterThan(0);
        expect(Number(overGet.retryAfter)).toBeGreaterThan(0);
        expect(overSocket.retryAfterField).toBeGreaterThan(0);
      }
      // Recorded once per request on every transport (a body over the limit never reaches the pipeline).
      if (name !== 'oversized') expect(await errorsCounted()).toEqual({ http: counted.http + 2, ws: counted.ws + 1 });
      // Nothing ran (a heavy read is refused by its field's resolver: the operation itself did start).
      if (name !== 'heavy reads saturated') expect(gw.gateway.executions, 'operations executed').toBe(before);
    } finally {
      release?.();
    }
  });
});

describe("scopes below the root: a call's commands, recordings and timeline are a read of the call", () => {
  const subscribeOnce = (bearer: string, query: string) => overWebSocket({ bearer, query });

  it('a STATUS_SUBSCRIBE token may follow statuses, but Call.commands, recordings, events and CallEvent.command need CALLS_READ', async () => {
    const app = await newApp(gw.admin, 'nested scopes');
    const follower = await token(app, ['STATUS_SUBSCRIBE']);
    for (const [field, query] of [
      ['Call.commands', 'subscription { callStatus { status call { commands { id } } } }'],
      ['Call.recordings', 'subscription { callStatus { status call { recordings { id } } } }'],
      ['Call.events', 'subscription { callStatus { status call { events { nodes { status } } } } }'],
      ['CallEvent.command', 'subscription { callStatus { status command { id } } }'],
      ['Call.commands', 'subscription { callStatus { ...Deep } } fragment Deep on CallEvent { call { ...Calls } } fragment Calls on Call { commands { id } }'],
    ] as const) {
      const refused = await subscribeOnce(follower, query);
      expect(refused, query).toMatchObject({ close: null, code: 'FORBIDDEN' });
      expect(refused.message).toBe(`${field} needs an access token with the CALLS_READ scope`);
    }
    // What the scope covers is admitted: the subscription is registered.
    const before = gw.gateway.liveSubscriptions;
    const socket = new WebSocket(gw.wsUrl, 'graphql-transport-ws');
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${follower}` } }));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack')
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { callStatus { status call { id status } } }' } }));
    });
    try {
      await eventually(() => gw.gateway.liveSubscriptions === before + 1, 10_000, 'the subscription to be registered');
    } finally {
      socket.close();
    }
  });

  it("a CALLS_CREATE token's createCall may not select the call's timeline (403, no call); with CALLS_READ it may", async () => {
    const app = await newApp(gw.admin, 'nested create');
    const creator = await token(app, ['CALLS_CREATE']);
    const query = `mutation { createCall(input: { from: "${app.number}", to: "+15005550006" }) { call { id events { nodes { status } } } } }`;
    const refused = await post({ bearer: creator, query });
    expect(refused).toMatchObject({ status: 403, code: 'FORBIDDEN', message: 'Call.events needs an access token with the CALLS_READ scope' });
    expect((await gw.database.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM call WHERE app_id = $1', [app.id]))[0]!.n).toBe(0);
    const reader = await token(app, ['CALLS_CREATE', 'CALLS_READ']);
    expect(await post({ bearer: reader, query })).toMatchObject({ status: 200, code: undefined });
  });
});

describe("an access token's idempotency keys stay within its filter", () => {
  const CREATE = `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id metadata } replayed userErrors { code message } } }`;

  it("a key the backend used for another customer's call is refused without naming that call; a key of the token's own call replays", async () => {
    const app = await newApp(gw.admin, 'idempotency scope');
    const backend = await rawGql(gw.url, app.testKey, {
      query: CREATE,
      variables: { input: { from: app.number, to: '+15005550006', metadata: { customerId: 'c2' }, idempotencyKey: 'order-17' } },
    });
    const theirs = backend.data.createCall.call.id as string;
    const minted = await rawGql(gw.url, app.testKey, {
      query: 'mutation { createAccessToken(input: { scopes: [CALLS_CREATE], filter: { metadata: { customerId: "c1" } } }) { token } }',
    });
    const c1 = minted.data.createAccessToken.token as string;
    const input = { from: app.number, to: '+15005550006', metadata: { customerId: 'c1' } };
    const answer = (await rawGql(gw.url, c1, { query: CREATE, variables: { input: { ...input, idempotencyKey: 'order-17' } } })).data.createCall;
    expect(answer).toMatchObject({ call: null, replayed: false, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED' }] });
    expect(answer.userErrors[0].message).not.toContain(theirs);
    // Its own key: created, then replayed.
    const first = (await rawGql(gw.url, c1, { query: CREATE, variables: { input: { ...input, idempotencyKey: 'mine' } } })).data.createCall;
    const again = (await rawGql(gw.url, c1, { query: CREATE, variables: { input: { ...input, idempotencyKey: 'mine' } } })).data.createCall;
    expect(again).toMatchObject({ replayed: true, call: { id: first.call.id } });
  });
});
