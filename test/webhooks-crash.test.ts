import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { eventually, freshDatabase, gql } from './helpers/gateway.js';
import { freePort } from './helpers/global-setup.js';
import { startServe } from './helpers/cli.js';
import { Receiver } from './helpers/receiver.js';
import { CreateCallDocument, CreateWebhookEndpointDocument } from './gql/graphql.js';

let database: { url: string; drop(): Promise<void> };
let receiver: Receiver;
beforeAll(async () => {
  database = await freshDatabase();
  receiver = await new Receiver().start();
  // Every delivery stays in flight for a while, so the kill lands in the middle of some.
  receiver.delayMs = 150;
});
afterAll(async () => {
  await receiver.stop();
  await database.drop();
});

describe('kill -9 with deliveries in flight', () => {
  it('after a restart every event is delivered at least once: none lost', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: database.url,
      PORT: String(port),
      SIMULATOR_TIME_SCALE: '0.02',
      EVENT_POLL_MS: '100',
      WEBHOOK_POLL_MS: '100',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_TIMEOUT_MS: '500',
      WEBHOOK_RETRY_SCHEDULE_MS: '0,100,100,100,100,100,100,100',
    };
    const first = await startServe(env);
    const url = `http://127.0.0.1:${port}/graphql`;
    const key = /test key: (sk_test_app_\w+)/.exec(first.output())![1]!;
    const number = /number:\s+(\+\d+)/.exec(first.output())![1]!;
    const created = await gql(url, key, CreateWebhookEndpointDocument, { input: { url: receiver.url } });
    const secret = created.data!.createWebhookEndpoint.secret!;
    for (let i = 0; i < 20; i++) await gql(url, key, CreateCallDocument, { input: { from: number, to: '+15005550001' } });
    // Kill once some deliveries arrived and others are on their way.
    await eventually(() => receiver.received.length >= 10, 20_000, 'the first deliveries');
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = receiver.received.length;

    const second = await startServe(env);
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        // The restarted gateway resumes the calls; wait until all 20 have ended.
        await eventually(
          async () => (await client.query(`SELECT count(*)::int AS n FROM call WHERE status = 'completed'`)).rows[0].n === 20,
          30_000,
          'every call to end',
        );
        const { rows } = await client.query<{ id: string }>(`SELECT id FROM call_event WHERE type = 'status_changed'`);
        expect(rows).toHaveLength(80);
        const delivered = () => new Set(receiver.received.map((request) => request.json.eventId));
        await eventually(() => rows.every((row) => delivered().has(row.id)), 30_000, 'every event to be delivered');
        for (const request of receiver.received) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
        // The receiver records a request just before it answers; the gateway marks the delivery only once that answer is
        // back, so the last one can still be in flight here.
        const states = async () =>
          (await client.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM webhook_delivery GROUP BY status`)).rows;
        await eventually(async () => JSON.stringify(await states()) === JSON.stringify([{ status: 'delivered', n: 80 }]), 10_000, 'every delivery marked');
        expect(await states()).toEqual([{ status: 'delivered', n: 80 }]);
        // At least once: a delivery whose answer the killed process never recorded was sent again, with the same webhook-id.
        const ids = receiver.received.map((request) => request.headers['webhook-id']);
        expect(new Set(ids).size).toBe(80);
        expect(receiver.received.length).toBeGreaterThanOrEqual(80);
        expect(atKill).toBeLessThan(80);
      } finally {
        await client.end();
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});
