import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, redisUrl, type TestGateway } from './helpers/gateway.js';
import { connectRaw } from './helpers/ws.js';
import { Redis } from 'ioredis';

const QUERY = { query: '{ calls { totalCount } }' };

const REDIS = redisUrl();

describe.each([['PostgreSQL', {}] as const, ...(REDIS ? [['Redis', { REDIS_URL: REDIS }] as const] : [])])(
  'rate limit per API key, counted in %s',
  (_store, extra) => {
    let one: TestGateway;
    let two: TestGateway;
    beforeAll(async () => {
      const env = { RATE_LIMIT_PER_MINUTE: '5', ...extra };
      one = await bootGateway({ env });
      two = await bootGateway({ env, shareDatabaseWith: one });
    });
    afterAll(async () => {
      await two.stop();
      await one.stop();
    });

    it('the 6th request of a minute gets RATE_LIMITED, HTTP 429 and Retry-After; another key is not affected', async () => {
      const app = await newApp(one.admin);
      for (let i = 0; i < 5; i++) expect((await rawGql(one.url, app.testKey, QUERY)).errors).toBeUndefined();
      const response = await fetch(one.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
        body: JSON.stringify(QUERY),
      });
      expect(response.status).toBe(429);
      const retryAfter = Number(response.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = (await response.json()) as { errors: { extensions: { code: string; retryAfter: number } }[] };
      expect(body.errors[0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter });
      // The live key of the same application is another key.
      expect((await rawGql(one.url, app.liveKey, QUERY)).errors).toBeUndefined();
    });

    it('across two gateway processes the count is shared: 3 + 2 pass, the 6th is refused on either', async () => {
      const app = await newApp(one.admin);
      for (const gw of [one, two, one, two, one]) expect((await rawGql(gw.url, app.testKey, QUERY)).status).toBe(200);
      expect((await rawGql(two.url, app.testKey, QUERY)).status).toBe(429);
      expect((await rawGql(one.url, app.testKey, QUERY)).status).toBe(429);
    });

    it('WebSocket subscribes count too: over the limit, RATE_LIMITED with retryAfter', async () => {
      const app = await newApp(one.admin);
      for (let i = 0; i < 5; i++) await rawGql(two.url, app.testKey, QUERY);
      const { socket } = await connectRaw(one.wsUrl, { authorization: `Bearer ${app.testKey}` });
      try {
        const answer = new Promise<any>((resolve) => socket.on('message', (data) => resolve(JSON.parse(String(data)))));
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { callStatus { sequence } }' } }));
        expect(await answer).toMatchObject({ id: '1', type: 'error', payload: [{ extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) } }] });
      } finally {
        socket.close();
      }
    });
  },
);

describe.each([['PostgreSQL', {}] as const, ...(REDIS ? [['Redis', { REDIS_URL: REDIS }] as const] : [])])(
  'rate limit in %s: points leased in chunks, never more than the limit',
  (store, extra) => {
    let one: TestGateway;
    let two: TestGateway;
    beforeAll(async () => {
      const env = { RATE_LIMIT_PER_MINUTE: '1000', ...extra };
      one = await bootGateway({ env });
      two = await bootGateway({ env: { ...env, RATE_LIMIT_PER_MINUTE: '50' }, shareDatabaseWith: one });
    });
    afterAll(async () => {
      await two.stop();
      await one.stop();
    });

    /** Leases the store has granted: Redis runs the script (EVALSHA, or EVAL the first time); PostgreSQL, the function, counted where `one` sends it. */
    let pgLeases = 0;
    async function leaseCalls(): Promise<number> {
      if (store === 'PostgreSQL') return pgLeases;
      const redis = new Redis(REDIS!);
      try {
        const stats = await redis.info('commandstats');
        return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
      } finally {
        redis.disconnect();
      }
    }

    it('100 requests of one key far from its limit cost a few store calls, not 100', async () => {
      const pool = one.database.sql.pool;
      const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
      (pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
        if (text?.includes('calls_gateway_lease_points')) pgLeases++;
        return query(...args);
      };
      try {
        const app = await newApp(one.admin);
        const before = await leaseCalls();
        for (let i = 0; i < 100; i++) expect((await rawGql(one.url, app.testKey, QUERY)).status).toBe(200);
        // 1000 per minute: 100 points, then 90 (a tenth of what is left each time); other test files may lease meanwhile.
        const leases = (await leaseCalls()) - before;
        expect(leases).toBeLessThanOrEqual(10);
        expect(leases).toBeGreaterThanOrEqual(1);
      } finally {
        (pool as unknown as { query: unknown }).query = query;
      }
    });

    it('80 concurrent requests over two processes against a limit of 50: at most 50 pass, the rest get 429', async () => {
      const three = await bootGateway({ env: { RATE_LIMIT_PER_MINUTE: '50', ...extra }, shareDatabaseWith: one });
      try {
        const app = await newApp(one.admin);
        const statuses = await Promise.all(
          Array.from({ length: 80 }, (_, i) => rawGql((i % 2 ? two : three).url, app.testKey, QUERY).then((response) => response.status)),
        );
        const passed = statuses.filter((status) => status === 200).length;
        expect(passed).toBeLessThanOrEqual(50);
        // Points leased by one process and left unspent are lost to the other: a few at most.
        expect(passed).toBeGreaterThanOrEqual(40);
        expect(statuses.filter((status) => status !== 200).every((status) => status === 429)).toBe(true);
      } finally {
        await three.stop();
      }
    });
  },
);
