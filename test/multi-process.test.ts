import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, listenersRegistered, newApp, redisUrl, type TestGateway } from './helpers/gateway.js';
import { CALL_STATUS, collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';

/** Redis from the run (REDIS_URL, or the test run's own redis-server); the PostgreSQL bus needs nothing. */
const buses: [string, string | undefined][] = [['LISTEN/NOTIFY', undefined], ...(redisUrl() ? [['Redis', redisUrl()] as [string, string]] : [])];

describe.each(buses)('two gateway processes on one database, bus: %s', (_bus, redisUrl) => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await bootGateway({ simulator: 'fast', config: { redisUrl } });
    b = await bootGateway({ simulator: 'fast', config: { redisUrl }, shareDatabaseWith: a });
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('uses the configured bus', () => {
    expect(a.gateway.bus.name).toBe(redisUrl ? 'redis' : 'postgres');
  });

  it('a subscriber on B receives every event of a call created on A, in order', async () => {
    const app = await newApp(a.admin);
    const client = wsClient(b.wsUrl, app.testKey);
    try {
      const sub = collect(client, CALL_STATUS, {});
      await listenersRegistered(b, 1);
      const created = await gql(a.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } });
      const events = await sub.until((items) => items.length >= 4);
      expect(events.map((event) => [event.call.id, event.sequence, event.status])).toEqual([
        [created.data!.createCall.call!.id, 1, 'INITIATED'],
        [created.data!.createCall.call!.id, 2, 'RINGING'],
        [created.data!.createCall.call!.id, 3, 'IN_PROGRESS'],
        [created.data!.createCall.call!.id, 4, 'COMPLETED'],
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('a position announced by another deployment on the same bus (a larger one) does not make B skip its own events', async () => {
    if (!redisUrl) return; // LISTEN/NOTIFY is per database: nothing foreign can arrive on it.
    const { Redis } = await import('ioredis');
    const { EVENTS_CHANNEL } = await import('../src/events/event-bus.js');
    const other = new Redis(redisUrl);
    const app = await newApp(a.admin);
    try {
      // While nobody listens on B, another database's much larger position arrives.
      await other.publish(EVENTS_CHANNEL, JSON.stringify('999999999'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const client = wsClient(b.wsUrl, app.testKey);
      try {
        const before = b.gateway.liveSubscriptions;
        const sub = collect(client, CALL_STATUS, {});
        await listenersRegistered(b, before + 1);
        await gql(a.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550002' } });
        expect((await sub.until((items) => items.length >= 2)).map((event) => event.status)).toEqual(['INITIATED', 'BUSY']);
      } finally {
        await client.dispose();
      }
    } finally {
      other.disconnect();
    }
  });

  it('after the bus connection is lost, it reconnects and the subscriber catches up from the log', async () => {
    const app = await newApp(a.admin);
    const client = wsClient(b.wsUrl, app.testKey);
    try {
      const before = b.gateway.liveSubscriptions;
      const sub = collect(client, CALL_STATUS, {});
      await listenersRegistered(b, before + 1);
      await b.gateway.bus.simulateConnectionLoss();
      await Promise.all(Array.from({ length: 3 }, () => gql(a.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550002' } })));
      const events = await sub.until((items) => items.length >= 6);
      expect(events.filter((event) => event.status === 'BUSY')).toHaveLength(3);
      expect(new Set(events.map((event) => event.id)).size).toBe(6);
    } finally {
      await client.dispose();
    }
  });
});

describe('the simulator survives a gateway restart', () => {
  it('a pending simulated call resumes from the database in a new process and completes with no gap', async () => {
    // Slow enough (×0.2: ringing after 200 ms, answered after 1 s) to stop the gateway mid-call.
    const first = await bootGateway({ config: { simulatorTimeScale: 0.2 } });
    const app = await newApp(first.admin);
    const created = await gql(first.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } });
    const id = created.data!.createCall.call!.id;
    const status = async (gw: TestGateway) => (await gw.database.sql.query<{ status: string }>(`SELECT status FROM call WHERE id = $1`, [id]))[0]!.status;
    await eventually(async () => (await status(first)) === 'ringing', 5_000, 'RINGING');
    // Stop the process while the call rings: its timers die with it. Then start a new one.
    await first.gateway.stop();
    await first.database.close();
    const second = await bootGateway({ config: { simulatorTimeScale: 0.2 }, shareDatabaseWith: first });
    try {
      await eventually(async () => (await status(second)) === 'completed', 10_000, 'COMPLETED after restart');
      const events = await second.database.sql.query<{ sequence: number; status: string }>(
        `SELECT sequence, status FROM call_event WHERE call_id = $1 ORDER BY sequence`,
        [id],
      );
      expect(events).toEqual([
        { sequence: 1, status: 'initiated' },
        { sequence: 2, status: 'ringing' },
        { sequence: 3, status: 'in_progress' },
        { sequence: 4, status: 'completed' },
      ]);
    } finally {
      await second.stop();
      await first.stop(); // drops the database
    }
  }, 30_000);
});
