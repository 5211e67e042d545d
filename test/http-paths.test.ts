import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, withoutRunDetails, type TestApp, type TestGateway } from './helpers/gateway.js';

// POST /graphql is answered by the operation pipeline for plain queries and mutations and by
// Apollo Server for everything else (src/server/http-graphql.ts). Apollo is the reference: the
// same gateway twice on one database, one answering directly (GRAPHQL_HTTP=direct, the default),
// one through Apollo for every request (GRAPHQL_HTTP=apollo), must give the same status, the
// same headers that matter and the same body bytes (ids and times aside). CI also runs the whole
// suite with GRAPHQL_HTTP=apollo.
let direct: TestGateway;
let apollo: TestGateway;
let app: TestApp;
beforeAll(async () => {
  direct = await bootGateway({ simulator: 'frozen', env: { GRAPHQL_HTTP: 'direct' } });
  apollo = await bootGateway({ simulator: 'frozen', env: { GRAPHQL_HTTP: 'apollo' }, shareDatabaseWith: direct });
  app = await newApp(direct.admin);
});
afterAll(async () => {
  await apollo.stop();
  await direct.stop();
});

/** Ids, cursors, times and stack frames differ between two requests; nothing else may. */
function shape(text: string): string {
  // The two paths' stack frames differ (Apollo's pipeline or ours); everything else may not.
  return withoutRunDetails(text).replace(/"stacktrace":\[[^\]]*\]/g, '"stacktrace":"STACK"');
}

interface Case {
  body: unknown;
  headers?: Record<string, string>;
  /** Which path the direct gateway takes. */
  path: 'direct' | 'apollo' | 'refused';
}

const CREATE =
  'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id status fromChannel toChannel metadata } userErrors { code field message } replayed } }';
const CASES: [string, Case][] = [
  [
    'a page of calls with events',
    {
      path: 'direct',
      body: {
        query:
          '{ calls(first: 5) { totalCount nodes { id status direction metadata createdAt duration events { nodes { sequence status previousStatus } } } pageInfo { hasNextPage endCursor } } }',
      },
    },
  ],
  [
    'createCall in variables',
    { path: 'direct', body: { query: CREATE, variables: { i: { from: 'NUMBER', to: '+15005550006', metadata: { a: [1, { b: null }] } } } } },
  ],
  ['createCall refused (userErrors)', { path: 'direct', body: { query: CREATE, variables: { i: { from: 'NUMBER', to: '12' } } } }],
  ['an argument the domain refuses (BAD_USER_INPUT, data null)', { path: 'direct', body: { query: '{ calls(first: 1000) { totalCount } }' } }],
  ['a call that is not there', { path: 'direct', body: { query: '{ call(id: "call_test_000000000000000000000000000") { id } }' } }],
  [
    'node with an inline fragment',
    { path: 'direct', body: { query: 'query($id: ID!) { node(id: $id) { __typename id ... on Call { status toAddress } } }', variables: { id: 'FIRST' } } },
  ],
  [
    'the second of two operations',
    { path: 'direct', body: { query: 'query A { calls { totalCount } } query B { calls(first: 1) { nodes { status } } }', operationName: 'B' } },
  ],
  ['variables: null and operationName: null', { path: 'direct', body: { query: '{ calls(first: 1) { totalCount } }', variables: null, operationName: null } }],
  [
    'a command on a call that is not there',
    {
      path: 'direct',
      body: {
        query: 'mutation { hangupCall(input: { callId: "call_test_000000000000000000000000000" }) { call { id } command { id } userErrors { code field } } }',
      },
    },
  ],
  [
    'Accept: application/graphql-response+json',
    { path: 'direct', headers: { accept: 'application/graphql-response+json' }, body: { query: '{ calls(first: 1) { totalCount } }' } },
  ],
  ['Accept: */*', { path: 'direct', headers: { accept: '*/*' }, body: { query: '{ calls(first: 1) { totalCount } }' } }],
  [
    "Apollo Client's Accept",
    { path: 'direct', headers: { accept: 'application/graphql-response+json,application/json;q=0.9' }, body: { query: '{ calls(first: 1) { totalCount } }' } },
  ],
  // Handed to Apollo by the direct gateway: the answers must still be the same.
  ['a bad variable', { path: 'apollo', body: { query: CREATE, variables: { i: { from: 'NUMBER', to: '+15005550006', fromChannel: 'FAX' } } } }],
  ['a missing variable', { path: 'apollo', body: { query: 'query($id: ID!) { call(id: $id) { id } }' } }],
  // Refused by the pipeline's admission before either answers (test/admission.test.ts compares them with GET, where Apollo resolves the operation).
  ['an unknown operation name', { path: 'refused', body: { query: 'query A { calls { totalCount } }', operationName: 'B' } }],
  ['two operations and no name', { path: 'refused', body: { query: 'query A { calls { totalCount } } query B { calls { totalCount } }' } }],
  ['extensions', { path: 'apollo', body: { query: '{ calls(first: 1) { totalCount } }', extensions: { x: 1 } } }],
  [
    'a persisted-query hash',
    { path: 'apollo', body: { query: '{ calls(first: 1) { totalCount } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } } },
  ],
  ['variables as a string', { path: 'apollo', body: { query: '{ calls(first: 1) { totalCount } }', variables: '{}' } }],
  ['variables as an array', { path: 'apollo', body: { query: '{ calls(first: 1) { totalCount } }', variables: [] } }],
  ['operationName a number', { path: 'apollo', body: { query: '{ calls(first: 1) { totalCount } }', operationName: 1 } }],
  ['a subscription over HTTP', { path: 'apollo', body: { query: 'subscription { callStatus { sequence } }' } }],
  ['Accept: text/html (406)', { path: 'apollo', headers: { accept: 'text/html' }, body: { query: '{ calls(first: 1) { totalCount } }' } }],
];

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | null; sql: string | null; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), sql: response.headers.get('x-sql-statements'), text: await response.text() };
}

describe('POST /graphql answered directly and by Apollo Server: the same answers', () => {
  it.each(CASES)('%s', async (_name, { body, headers, path }) => {
    const first = (await rawGql(direct.url, app.testKey, { query: CREATE, variables: { i: { from: app.number, to: '+15005550006' } } })).data.createCall.call
      .id;
    const request = JSON.parse(JSON.stringify(body).replaceAll('"NUMBER"', JSON.stringify(app.number)).replaceAll('"FIRST"', JSON.stringify(first)));
    const before = direct.gateway.httpStats;
    const a = await post(direct.url, request, headers);
    const after = direct.gateway.httpStats;
    const b = await post(apollo.url, request, headers);
    expect(after.direct - before.direct, 'answered directly').toBe(path === 'direct' ? 1 : 0);
    expect(after.apollo - before.apollo, 'handed to Apollo').toBe(path === 'apollo' ? 1 : 0);
    expect(apollo.gateway.httpStats.direct).toBe(0);
    expect(a.status).toBe(b.status);
    expect(a.type).toBe(b.type);
    // Both count the statements the request sent (outside production), the same way.
    expect(a.sql === null).toBe(b.sql === null);
    expect(shape(a.text)).toBe(shape(b.text));
  });

  it('an unexpected error: masked the same way in production, logged with the request id on both paths', async () => {
    const logged: { gateway: string; requestId: unknown }[] = [];
    const loggerFor = (gateway: string) => ({
      info() {},
      warn() {},
      error: (message: string, fields?: Record<string, unknown>) =>
        void (message === 'operation failed' && logged.push({ gateway, requestId: fields?.requestId })),
    });
    const prodDirect = await bootGateway({
      simulator: 'frozen',
      env: { NODE_ENV: 'production', GRAPHQL_HTTP: 'direct' },
      shareDatabaseWith: direct,
      logger: loggerFor('direct'),
    });
    const prodApollo = await bootGateway({
      simulator: 'frozen',
      env: { NODE_ENV: 'production', GRAPHQL_HTTP: 'apollo' },
      shareDatabaseWith: direct,
      logger: loggerFor('apollo'),
    });
    // A column the list reads is gone for a moment (this file's own database): the resolver fails
    // with an SQL error no rule expected, which must not reach the client.
    await direct.database.sql.query('ALTER TABLE call RENAME COLUMN metadata TO metadata_gone');
    try {
      const query = { query: '{ calls(first: 1) { nodes { metadata } } }' };
      const a = await post(prodDirect.url, query, { 'x-request-id': 'req-direct' });
      const b = await post(prodApollo.url, query, { 'x-request-id': 'req-apollo' });
      expect(prodDirect.gateway.httpStats.direct).toBe(1);
      expect(a.status).toBe(b.status);
      expect(a.type).toBe(b.type);
      expect(shape(a.text)).toBe(shape(b.text));
      expect(JSON.parse(a.text).errors).toEqual([
        { message: 'Internal server error', locations: [{ line: 1, column: 3 }], path: ['calls'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      ]);
      expect(a.text).not.toContain('metadata_gone');
      expect(a.text).not.toContain('does not exist');
      expect(logged).toEqual([
        { gateway: 'direct', requestId: 'req-direct' },
        { gateway: 'apollo', requestId: 'req-apollo' },
      ]);
    } finally {
      await direct.database.sql.query('ALTER TABLE call RENAME COLUMN metadata_gone TO metadata');
      await prodApollo.stop();
      await prodDirect.stop();
    }
  });
});
