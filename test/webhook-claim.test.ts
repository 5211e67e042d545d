import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CreateWebhookEndpointDocument } from './gql/graphql.js';
import { PgWebhookQueue } from '../src/db/pg-webhook-queue.js';

/**
 * The claim's caps when deliveries share their due time, as one fan-out's do (its rows get the
 * same next_attempt_at): ranked one way per endpoint and another per application, the
 * application's first slots could all fall on deliveries over their endpoint's cap, and the claim
 * then found nothing, poll after poll: a burst to several endpoints of one tenant stalled for good
 * (bench/webhooks.ts BENCH_WEBHOOK_BACKLOG found it). Rows are written here directly, with a
 * poll the gateway's own worker will not reach during the test, so the claims are this test's.
 */
let gw: TestGateway;
let app: TestApp;
const endpoints: string[] = [];

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', env: { WEBHOOK_POLL_MS: '60000', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
  app = await newApp(gw.admin, 'claims');
  for (let i = 0; i < 10; i++) {
    const { data } = await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: `http://127.0.0.1:9/hooks/${i}` } });
    endpoints.push(data!.createWebhookEndpoint.endpoint!.id);
  }
  // 10 endpoints × 30 deliveries, every one due at the same instant.
  await gw.database.sql.query(
    `INSERT INTO webhook_delivery (id, endpoint_id, app_id, mode, event_id, call_id, event_type, payload, status, next_attempt_at)
     SELECT 'msg_claim_' || e.n || '_' || k, e.id, $2, 'test', 'evt_claim_' || k, 'call_claim_' || k, 'calls.initiated', '{}'::jsonb, 'pending', now() - interval '1 second'
       FROM unnest($1::text[]) WITH ORDINALITY AS e(id, n), generate_series(1, 30) AS k`,
    [endpoints, app.id],
  );
});
afterAll(() => gw?.stop());

describe('claiming deliveries that share their due time', () => {
  it('fills the application’s cap, never more than an endpoint’s, claim after claim until none is left', async () => {
    const queue = new PgWebhookQueue(gw.database.sql);
    const caps = { perEndpoint: 4, perApplication: 8 };
    let claimedInAll = 0;
    for (let round = 0; claimedInAll < 300; round++) {
      expect(round).toBeLessThan(60);
      const claimed = await queue.claim(16, 60_000, caps);
      // Each round: the application's whole cap (or what is left), at most 4 from one endpoint.
      expect(claimed.length).toBe(Math.min(8, 300 - claimedInAll));
      const perEndpoint = new Map<string, number>();
      for (const delivery of claimed) perEndpoint.set(delivery.endpointId, (perEndpoint.get(delivery.endpointId) ?? 0) + 1);
      expect(Math.max(...perEndpoint.values())).toBeLessThanOrEqual(4);
      // At the cap: nothing more until one is recorded.
      expect(await queue.claim(16, 60_000, caps)).toEqual([]);
      for (const delivery of claimed) {
        await queue.record(delivery, { statusCode: 204, latencyMs: 1, error: null, responseBody: null }, 'delivered', 0, 1_000_000);
      }
      claimedInAll += claimed.length;
    }
  });
});
