import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { bootGateway, eventually, holdStatements, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { wsClient, wsRequest } from './helpers/ws.js';
import { AccessScope, AccessTokens } from '../src/domain/access-tokens.js';
import { parseAccessTokenKeys } from '../src/shared/access-token-keys.js';

// callStats and totalCount read every call of a range. Per application, at most
// HEAVY_READS_PER_APPLICATION run at once and HEAVY_READS_WAITING wait; beyond that a read is
// refused at once (RATE_LIMITED), so one tenant's aggregations cannot hold the pool.
const KEYS = `k1:${'h'.repeat(40)}`;
let gw: TestGateway;
let app: TestApp;
let other: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', env: { HEAVY_READS_PER_APPLICATION: '1', HEAVY_READS_WAITING: '2' } });
  app = await newApp(gw.admin, 'heavy');
  other = await newApp(gw.admin, 'neighbour');
  for (const [key, from] of [
    [app.testKey, app.number],
    [other.testKey, other.number],
  ] as const) {
    await rawGql(gw.url, key, {
      query: `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }`,
      variables: { input: { from, to: '+15005550001' } },
    });
  }
});
afterAll(() => gw?.stop());

const month = { from: new Date(Date.now() - 30 * 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };
const STATS = `query($from: DateTime!, $to: DateTime!) { callStats(from: $from, to: $to) { total { count } } }`;

type Answer = Awaited<ReturnType<typeof rawGql>>;

/**
 * Sends reads until one is answered at once (refused). Until the earlier ones have joined the
 * queue, a probe may join it too (and then wait): it is given up on after a moment (kept in
 * `admitted`), and the next probe finds the queue full.
 */
async function probeUntilRefused(url: string, credential: string, admitted: Promise<Answer>[], what: string): Promise<Answer> {
  let refused: Answer | undefined;
  await eventually(
    async () => {
      const probe = rawGql(url, credential, { query: STATS, variables: month });
      const answer = await Promise.race([probe, new Promise<null>((resolve) => setTimeout(() => resolve(null), 300))]);
      if (answer === null) {
        admitted.push(probe);
        return false;
      }
      refused = answer;
      return true;
    },
    10_000,
    what,
  );
  return refused!;
}

/** Every read let in (run or queued) is answered once released: the one call of its application. */
async function expectAllAnswered(admitted: Promise<Answer>[]): Promise<void> {
  for (const answer of await Promise.all(admitted)) {
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ callStats: { total: { count: 1 } } });
  }
}

describe('heavy reads per application', () => {
  it('with 1 running and 2 waiting, the next is refused at once (RATE_LIMITED, retryAfter); another application is answered meanwhile; then all finish', async () => {
    const gate = holdStatements(gw, /GROUPING SETS/, app.id);
    const admitted: Promise<Answer>[] = [];
    try {
      admitted.push(rawGql(gw.url, app.testKey, { query: STATS, variables: month }));
      await eventually(() => gate.state.entered === 1, 10_000, 'the first read to reach the database');
      admitted.push(rawGql(gw.url, app.testKey, { query: STATS, variables: month }), rawGql(gw.url, app.testKey, { query: STATS, variables: month }));
      const refused = await probeUntilRefused(gw.url, app.testKey, admitted, 'a read to be refused');
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 1 });
      expect(refused.errors?.[0]?.message).toMatch(/Too many heavy reads/);
      // Only one of this application's reads reached the database, and another application's
      // aggregations are answered, over WebSocket, while this one's wait.
      expect(gate.state.entered).toBe(1);
      const client = wsClient(gw.wsUrl, other.testKey);
      try {
        const theirs = await wsRequest(client, STATS, month);
        expect(theirs.errors).toBeUndefined();
        expect(theirs.data).toEqual({ callStats: { total: { count: 1 } } });
      } finally {
        await client.dispose();
      }
    } finally {
      gate.release();
    }
    // Released: every admitted read is answered.
    await expectAllAnswered(admitted);
  });
});

describe('heavy reads per access token', () => {
  it('an access token has its own share: two of its reads held, the third refused; the secret key and another token of the same key are still answered', async () => {
    // The default shape: HEAVY_READS_PER_APPLICATION 2, HEAVY_READS_WAITING 4 at 25%: one read of a token runs and one waits.
    const gw = await bootGateway({
      simulator: 'frozen',
      env: { HEAVY_READS_PER_APPLICATION: '2', HEAVY_READS_WAITING: '4', RATE_LIMIT_TOKEN_SHARE: '25', ACCESS_TOKEN_KEYS: KEYS },
    });
    // Stopped however the test ends.
    onTestFinished(() => gw.stop());
    const app = await newApp(gw.admin, 'tokens');
    await rawGql(gw.url, app.testKey, {
      query: `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }`,
      variables: { input: { from: app.number, to: '+15005550001' } },
    });
    const [row] = await gw.database.sql.query<{ id: string }>(`SELECT id FROM api_key WHERE app_id = $1 AND mode = 'test'`, [app.id]);
    const signer = new AccessTokens(parseAccessTokenKeys(KEYS));
    const mint = async () => (await signer.issue({ appId: app.id, mode: 'test', keyId: row!.id }, { scopes: [AccessScope.CALLS_READ] })).token;
    const [greedy, neighbour] = [await mint(), await mint()];
    const gate = holdStatements(gw, /GROUPING SETS/, app.id);
    const admitted: Promise<Answer>[] = [];
    try {
      admitted.push(rawGql(gw.url, greedy, { query: STATS, variables: month }));
      await eventually(() => gate.state.entered === 1, 10_000, "the token's first read to reach the database");
      admitted.push(rawGql(gw.url, greedy, { query: STATS, variables: month }));
      const refused = await probeUntilRefused(gw.url, greedy, admitted, "the token's read to be refused");
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(gate.state.entered).toBe(1);
      // The backend's secret key still reaches the database (its own budget), and so does
      // another user's token, over WebSocket.
      admitted.push(rawGql(gw.url, app.testKey, { query: STATS, variables: month }));
      await eventually(() => gate.state.entered === 2, 10_000, "the secret key's read to reach the database");
      const client = wsClient(gw.wsUrl, neighbour);
      try {
        const theirs = wsRequest(client, STATS, month);
        await eventually(() => gate.state.entered === 3, 10_000, "the other token's read to reach the database");
        gate.release();
        expect(await theirs).toEqual({ data: { callStats: { total: { count: 1 } } } });
      } finally {
        await client.dispose();
      }
    } finally {
      gate.release();
    }
    await expectAllAnswered(admitted);
  });
});
