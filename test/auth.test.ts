import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { connectRaw, wsClient, wsRequest } from './helpers/ws.js';
import { ListCallsDocument } from './gql/graphql.js';
import { generateKey } from '../src/domain/api-keys.js';

let gw: TestGateway;
let app: TestApp;

beforeAll(async () => {
  // A short key cache, so a revocation is seen within the test.
  gw = await bootGateway({ config: { authCacheTtlMs: 200 } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

describe('API keys over HTTP', () => {
  it.each([
    ['no Authorization header', null],
    ['a malformed key', 'sk_test_app_short'],
    ['a well-formed key that was never issued', generateKey('test').key],
    ['a key with the wrong prefix', 'pk_test_app_' + 'a'.repeat(32)],
  ])('%s → HTTP 401 UNAUTHENTICATED', async (_name, key) => {
    const response = await gql(gw.url, key, ListCallsDocument, {});
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.errors?.[0]?.extensions?.stacktrace).toBeUndefined();
    expect(response.data).toBeUndefined();
  });

  it('a revoked key is refused once the key cache expires (200 ms here; AUTH_CACHE_TTL_MS)', async () => {
    const key = await gw.admin.createKey(app.id, 'test');
    expect((await gql(gw.url, key.key, ListCallsDocument, {})).status).toBe(200);
    await gw.admin.revokeKey(key.id);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const response = await gql(gw.url, key.key, ListCallsDocument, {});
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a key revoked for a future time (rotation) keeps working until then', async () => {
    const key = await gw.admin.createKey(app.id, 'live');
    await gw.admin.revokeKey(key.id, new Date(Date.now() + 60_000));
    expect((await gql(gw.url, key.key, ListCallsDocument, {})).status).toBe(200);
  });

  it('stores only hashes: no issued key appears in the database', async () => {
    const key = await gw.admin.createKey(app.id, 'test');
    const rows = await gw.database.sql.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM api_key WHERE hash = $1 OR display_prefix = $1 OR id = $1) AS found`,
      [key.key],
    );
    expect(rows[0]!.found).toBe(false);
  });

  it('refuses batched HTTP requests', async () => {
    const response = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
      body: JSON.stringify([{ query: '{ calls { totalCount } }' }, { query: '{ calls { totalCount } }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('refuses a GET without a CSRF-safe header (CSRF prevention)', async () => {
    const response = await fetch(`${gw.url}?query=${encodeURIComponent('{ calls { totalCount } }')}`, {
      headers: { authorization: `Bearer ${app.testKey}` },
    });
    expect(response.status).toBe(400);
  });

  it('returns INTERNAL_SERVER_ERROR for nothing expected: an unknown field is a validation error', async () => {
    const response = await rawGql(gw.url, app.testKey, { query: '{ calls { nope } }' });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('API keys over WebSocket (graphql-transport-ws)', () => {
  it.each([
    ['no connectionParams', undefined],
    ['no authorization', {}],
    ['a bad key', { authorization: 'Bearer sk_test_app_nope' }],
    ['an unknown key', { authorization: `Bearer ${generateKey('live').key}` }],
  ])('%s → closed with 4403', async (_name, params) => {
    const { acked, closeCode } = await connectRaw(gw.wsUrl, params);
    expect(acked).toBe(false);
    expect(closeCode).toBe(4403);
  });

  it('a good key is acknowledged and runs operations scoped to its tenant', async () => {
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const result = await wsRequest(client, '{ calls(first: 1) { totalCount } }');
      expect(result.errors).toBeUndefined();
      expect(typeof result.data.calls.totalCount).toBe('number');
      const bad = await wsRequest(client, '{ calls(first: 1000) { totalCount } }');
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'first' });
      // Documents are parsed and validated once per text, with the codes HTTP gives them.
      for (const [query, code] of [
        ['{ calls { nope } }', 'GRAPHQL_VALIDATION_FAILED'],
        ['{ calls {', 'GRAPHQL_PARSE_FAILED'],
      ]) {
        for (let i = 0; i < 2; i++) {
          await expect(wsRequest(client, query!)).rejects.toEqual([expect.objectContaining({ extensions: { code } })]);
        }
      }
    } finally {
      await client.dispose();
    }
  });
});

/** POSTs from a chosen loopback address (all of 127.0.0.0/8 is this machine). */
function postFrom(
  localAddress: string,
  url: string,
  key: string,
  query = '{ calls(first: 1) { totalCount } }',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } },
      (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(body) }));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ query }));
  });
}

describe('floods of keys that pass the checksum but were never issued', () => {
  it('an address that presents too many refused keys is refused without a lookup; other addresses and its verified keys are not', async () => {
    const limited = await bootGateway({ env: { AUTH_FAILURES_PER_MINUTE: '5' } });
    try {
      const mine = await newApp(limited.admin);
      expect((await postFrom('127.0.0.1', limited.url, mine.testKey)).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await postFrom('127.0.0.1', limited.url, generateKey('test').key)).status).toBe(401);
      const blocked = await postFrom('127.0.0.1', limited.url, generateKey('test').key);
      expect(blocked.status).toBe(429);
      expect(blocked.body.errors[0].extensions.code).toBe('RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // A key this process already verified keeps working from that address; a new one is refused there.
      expect((await postFrom('127.0.0.1', limited.url, mine.testKey)).status).toBe(200);
      expect((await postFrom('127.0.0.1', limited.url, mine.liveKey)).status).toBe(429);
      // Another address is not affected.
      expect((await postFrom('127.0.0.2', limited.url, generateKey('test').key)).status).toBe(401);
      expect((await postFrom('127.0.0.2', limited.url, mine.liveKey)).status).toBe(200);
      // Over WebSocket too: an unknown key from the blocked address is closed 4403.
      const { acked, closeCode } = await connectRaw(limited.wsUrl, { authorization: `Bearer ${generateKey('test').key}` });
      expect(acked).toBe(false);
      expect(closeCode).toBe(4403);
    } finally {
      await limited.stop();
    }
  });

  it('10,050 unknown keys do not push a verified key out of the cache (it costs no lookup after them)', async () => {
    const cached = await bootGateway({ config: { authCacheTtlMs: 120_000 } });
    try {
      const mine = await newApp(cached.admin);
      const statements = async (key: string) =>
        Number(
          (
            await fetch(cached.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
              body: '{"query":"{ __typename }"}',
            })
          ).headers.get('x-sql-statements'),
        );
      expect(await statements(mine.testKey)).toBe(1);
      expect(await statements(mine.testKey)).toBe(0);
      for (let start = 0; start < 10_050; start += 50) {
        await Promise.all(
          Array.from({ length: 50 }, () =>
            fetch(cached.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${generateKey('test').key}` },
              body: '{"query":"{ __typename }"}',
            }),
          ),
        );
      }
      expect(await statements(mine.testKey)).toBe(0);
    } finally {
      await cached.stop();
    }
  }, 120_000);
});
