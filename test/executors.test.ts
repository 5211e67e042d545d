import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, withoutRunDetails, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';

// The same gateway twice on one database, one executing with graphql-jit, one with graphql-js:
// every answer must be the same (ids and times aside). The whole suite also runs on each
// executor in CI (GRAPHQL_EXECUTOR); this file compares them side by side.
let jit: TestGateway;
let interpreted: TestGateway;
let app: TestApp;
beforeAll(async () => {
  jit = await bootGateway({ simulator: 'frozen', env: { GRAPHQL_EXECUTOR: 'jit' } });
  interpreted = await bootGateway({ simulator: 'frozen', env: { GRAPHQL_EXECUTOR: 'graphql-js' }, shareDatabaseWith: jit });
  app = await newApp(jit.admin);
});
afterAll(async () => {
  await interpreted.stop();
  await jit.stop();
});

/** Ids, cursors and times differ between two creates; everything else must not. */
function shape(value: unknown): unknown {
  return JSON.parse(withoutRunDetails(JSON.stringify(value)));
}

const CASES: [string, { query: string; variables?: Record<string, unknown>; operationName?: string }][] = [
  [
    'a page of calls with events',
    {
      query:
        '{ calls(first: 5) { totalCount nodes { id status direction fromChannel toChannel metadata createdAt duration events { nodes { sequence status previousStatus } } } pageInfo { hasNextPage endCursor } } }',
    },
  ],
  [
    'createCall with its channels left to their defaults, in variables',
    {
      query:
        'mutation($i: CreateCallInput!) { createCall(input: $i) { call { status fromChannel toChannel metadata } userErrors { code field message } replayed } }',
      variables: { i: { from: 'NUMBER', to: '+15005550006', metadata: { a: [1, { b: null }] } } },
    },
  ],
  [
    'createCall refused (userErrors)',
    {
      query: 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } userErrors { code field message } } }',
      variables: { i: { from: 'NUMBER', to: '12' } },
    },
  ],
  [
    'a bad variable',
    {
      query: 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } } }',
      variables: { i: { from: 'NUMBER', to: '+15005550006', fromChannel: 'FAX' } },
    },
  ],
  ['a missing variable', { query: 'query($id: ID!) { call(id: $id) { id } }' }],
  [
    'metadata that is not an object',
    {
      query: 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } } }',
      variables: { i: { from: 'NUMBER', to: '+15005550006', metadata: [1] } },
    },
  ],
  [
    'node with an inline fragment',
    { query: 'query($id: ID!) { node(id: $id) { __typename id ... on Call { status toAddress } } }', variables: { id: 'FIRST' } },
  ],
  ['an argument the domain refuses (BAD_USER_INPUT)', { query: '{ calls(first: 1000) { totalCount } }' }],
  ['an unknown operation name', { query: 'query A { calls { totalCount } }', operationName: 'B' }],
  ['the second of two operations', { query: 'query A { calls { totalCount } } query B { calls(first: 1) { nodes { status } } }', operationName: 'B' }],
  [
    'a command on a call that is not there',
    { query: 'mutation { hangupCall(input: { callId: "call_test_000000000000000000000000000" }) { call { id } command { id } userErrors { code field } } }' },
  ],
];

describe('graphql-jit and graphql-js give the same answers', () => {
  it.each(CASES)('%s', async (_name, body) => {
    const first = (
      await rawGql(jit.url, app.testKey, {
        query: 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } } }',
        variables: { i: { from: app.number, to: '+15005550006' } },
      })
    ).data.createCall.call.id;
    const fill = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value ?? null)
          .replaceAll('"NUMBER"', JSON.stringify(app.number))
          .replaceAll('"FIRST"', JSON.stringify(first)),
      );
    const request = { ...body, variables: fill(body.variables) ?? undefined };
    const before = jit.gateway.executorStats;
    const a = await rawGql(jit.url, app.testKey, request);
    const after = jit.gateway.executorStats;
    const b = await rawGql(interpreted.url, app.testKey, request);
    expect(a.status).toBe(b.status);
    // Executed at all (not refused before execution): compiled, unless graphql-jit refused the variables.
    if (after.compiled + after.interpreted > before.compiled + before.interpreted) {
      // graphql-js runs what graphql-jit refuses: variables it cannot coerce, and no operation to run.
      const interpretedCase = /bad variable|missing variable|not an object|unknown operation/.test(_name);
      expect(after.compiled - before.compiled, 'run compiled').toBe(interpretedCase ? 0 : 1);
    }
    expect(shape({ data: a.data, errors: a.errors })).toEqual(shape({ data: b.data, errors: b.errors }));
  });

  it('callStatus events over WebSocket', async () => {
    const query = 'subscription($f: CallFilter) { callStatus(filter: $f) { sequence status previousStatus call { status toAddress metadata } } }';
    const clients = [wsClient(jit.wsUrl, app.testKey), wsClient(interpreted.wsUrl, app.testKey)];
    try {
      const subs = clients.map((client) => collect(client, query, { f: { toAddress: '+15005550001' } }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await rawGql(jit.url, app.testKey, {
        query: 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } } }',
        variables: { i: { from: app.number, to: '+15005550001', metadata: { k: 'v' } } },
      });
      const [a, b] = await Promise.all(subs.map((sub) => sub.until((items) => items.length >= 1)));
      expect(a).toEqual(b);
      expect(jit.gateway.executorStats.compiled).toBeGreaterThan(0);
      expect(interpreted.gateway.executorStats.compiled).toBe(0);
      expect(a![0]).toMatchObject({ sequence: 1, status: 'INITIATED', call: { metadata: { k: 'v' } } });
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
});
