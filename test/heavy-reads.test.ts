import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { wsClient, wsRequest } from './helpers/ws.js';

// callStats and totalCount read every call of a range. Per application, at most
// HEAVY_READS_PER_APPLICATION run at once and HEAVY_READS_WAITING wait; beyond that a field is
// refused at once (RATE_LIMITED), so a document of aliased aggregations cannot hold the pool.
let gw: TestGateway;
let app: TestApp;
let other: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', env: { HEAVY_READS_PER_APPLICATION: '1', HEAVY_READS_WAITING: '2' } });
  app = await newApp(gw.admin, 'heavy');
  other = await newApp(gw.admin, 'neighbour');
  for (const key of [app.testKey, other.testKey]) {
    const from = key === app.testKey ? app.number : other.number;
    await rawGql(gw.url, key, {
      query: `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }`,
      variables: { input: { from, to: '+15005550001' } },
    });
  }
});
afterAll(() => gw?.stop());

const month = { from: new Date(Date.now() - 30 * 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };
const aliased = (n: number) =>
  `query($from: DateTime!, $to: DateTime!) { ${Array.from({ length: n }, (_, i) => (i % 2 ? `s${i}: callStats(from: $from, to: $to) { total { count } }` : `c${i}: calls { totalCount }`)).join(' ')} }`;

describe('heavy reads per application', () => {
  it('a document of 6 aliased aggregations: 1 runs, 2 wait, the other 3 are refused at once (RATE_LIMITED, retryAfter), so the operation fails without holding more', async () => {
    const response = await rawGql(gw.url, app.testKey, { query: aliased(6), variables: month });
    // The fields are non-null: a refused one nulls the operation (GraphQL's rule), with its error.
    expect(response.data).toBeNull();
    expect(response.errors!.length).toBeGreaterThanOrEqual(1);
    for (const error of response.errors!) expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1 });
    expect(response.errors![0]!.message).toMatch(/Too many heavy reads/);
    // At the limit (1 running, 2 waiting) every field is answered.
    const three = await rawGql(gw.url, app.testKey, { query: aliased(3), variables: month });
    expect(three.errors).toBeUndefined();
    for (const [alias, value] of Object.entries(three.data as Record<string, unknown>))
      expect(value, alias).toEqual(alias.startsWith('s') ? { total: { count: 1 } } : { totalCount: 1 });
  });

  it("one application's aggregations do not count against another's, over HTTP and WebSocket", async () => {
    const mine = rawGql(gw.url, app.testKey, { query: aliased(3), variables: month });
    const client = wsClient(gw.wsUrl, other.testKey);
    try {
      const [own, theirs] = await Promise.all([mine, wsRequest(client, aliased(3), month)]);
      expect(own.errors).toBeUndefined();
      expect(theirs.errors).toBeUndefined();
      expect(Object.values(theirs.data as Record<string, unknown>).every((value) => value !== null)).toBe(true);
    } finally {
      await client.dispose();
    }
  });
});
