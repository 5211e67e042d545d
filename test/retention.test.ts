import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, newApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { Receiver } from './helpers/receiver.js';
import {
  CallStateDocument,
  CreateCallDocument,
  CreateWebhookEndpointDocument,
  HoldCallDocument,
  HangupCallDocument,
  WebhookDeliveriesDocument,
} from './gql/graphql.js';

describe('retention: old rows are deleted, on the defaults (events and commands 90 days, deliveries 30, response bodies 7)', () => {
  let gw: TestGateway;
  let receiver: Receiver;
  beforeAll(async () => {
    gw = await bootGateway({ env: { RETENTION_SWEEP_MS: '100', WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_MS: '50' } });
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await gw.stop();
    await receiver.stop();
  });

  it('rate-limit counters whose window ended over a day ago go (a token leaves one per token); a current one stays', async () => {
    const ago = (ms: number) => String(Date.now() - ms);
    await gw.database.sql.query(`INSERT INTO rate_limit (key, points, expire) VALUES ('rll:t:old-token', 3, $1), ('rll:k:current', 5, $2)`, [
      ago(2 * 86_400_000),
      ago(-60_000),
    ]);
    await eventually(
      async () => (await gw.database.sql.query(`SELECT 1 FROM rate_limit WHERE key = 'rll:t:old-token'`)).length === 0,
      10_000,
      'the old counter to go',
    );
    expect(await gw.database.sql.query(`SELECT key FROM rate_limit WHERE key = 'rll:k:current'`)).toEqual([{ key: 'rll:k:current' }]);
  });

  it('an old call keeps only its final event, its commands and deliveries go; a recent call keeps everything; response bodies go after 7 days', async () => {
    const app = await newApp(gw.admin);
    await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: receiver.url } });
    const state = async (id: string) => (await gql(gw.url, app.testKey, CallStateDocument, { id })).data!.call!;
    const ended = async () => {
      const id = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!.id;
      await eventually(async () => (await state(id)).status === 'IN_PROGRESS', 10_000, 'the answer');
      expect(
        (await gql(gw.url, app.testKey, HoldCallDocument, { input: { callId: id, musicUrl: 'https://music.invalid/hold.mp3' } })).data!.holdCall.userErrors,
      ).toEqual([]);
      await eventually(async () => (await state(id)).onHold, 10_000, 'the hold');
      await gql(gw.url, app.testKey, HangupCallDocument, { input: { callId: id } });
      await eventually(async () => (await state(id)).status === 'COMPLETED', 10_000, 'the end');
      return id;
    };
    const old = await ended();
    const recent = await ended();
    const deliveriesOf = async (id: string) =>
      (await gql(gw.url, app.testKey, WebhookDeliveriesDocument, { filter: {}, first: 100 })).data!.webhookDeliveries.nodes.filter(
        (node) => node.callId === id,
      );
    await eventually(
      async () =>
        (await deliveriesOf(old)).filter((d) => d.status === 'DELIVERED').length >= 4 &&
        (await deliveriesOf(recent)).filter((d) => d.status === 'DELIVERED').length >= 4,
      10_000,
      'the deliveries',
    );
    const recentBefore = await state(recent);

    // Time passes for the old call (and for the recent call's response bodies only).
    const sql = gw.database.sql;
    await sql.query(`UPDATE call_event SET occurred_at = occurred_at - interval '100 days' WHERE call_id = $1`, [old]);
    await sql.query(`UPDATE call_command SET created_at = created_at - interval '100 days' WHERE call_id = $1`, [old]);
    await sql.query(`UPDATE webhook_delivery SET created_at = created_at - interval '40 days' WHERE call_id = $1`, [old]);
    await sql.query(
      `UPDATE webhook_attempt SET attempted_at = attempted_at - interval '10 days' WHERE delivery_id IN (SELECT id FROM webhook_delivery WHERE call_id = $1)`,
      [recent],
    );

    await eventually(async () => (await state(old)).events.nodes.length === 1, 10_000, 'the old events to go');
    const after = await state(old);
    expect(after.events.nodes).toEqual([expect.objectContaining({ status: 'COMPLETED', kind: 'STATUS_CHANGED' })]);
    expect(after.commands).toEqual([]);
    await eventually(async () => (await deliveriesOf(old)).length === 0, 10_000, 'the old deliveries to go');
    // callStatus on the old call still answers with its final state.
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub = collect(client, 'subscription($id: ID) { callStatus(callId: $id) { status } }', { id: old });
      expect(await sub.until((items) => items.length >= 1)).toEqual([{ status: 'COMPLETED' }]);
      sub.stop();
    } finally {
      await client.dispose();
    }
    // The recent call is untouched, but its stored response bodies are gone.
    expect(await state(recent)).toEqual(recentBefore);
    await eventually(
      async () => (await deliveriesOf(recent)).flatMap((d) => d.attempts).every((attempt) => attempt.responseBody === null),
      10_000,
      'the old bodies to go',
    );
    expect((await deliveriesOf(recent)).flatMap((d) => d.attempts).length).toBeGreaterThanOrEqual(4);
  });
});

describe('the resume sweep is fair', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await bootGateway();
  });
  afterAll(() => gw.stop());

  it("10,050 test calls of one application that never end (answered, waiting for a command) do not keep another application's orphaned call from being resumed", async () => {
    const noisy = await newApp(gw.admin);
    const quiet = await newApp(gw.admin);
    // Seeded in SQL, an hour old, as a long-running test suite would leave them.
    await gw.database.sql.query(
      `WITH ids AS (SELECT 'call_test_' || substr(md5(random()::text || g), 1, 27) AS id FROM generate_series(1, 10050) g),
       c AS (INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel, metadata, last_sequence, provider, created_at)
             SELECT id, $1, 'test', 'outbound', 'in_progress', $2, '+15005550006', 'pstn', 'pstn', '{}', 1, 'simulator', now() - interval '1 hour' FROM ids RETURNING id)
       INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at)
       SELECT 'evt_' || substr(md5(id), 1, 27), id, $1, 'test', 1, 'in_progress', NULL, now() - interval '1 hour' FROM c`,
      [noisy.id, noisy.number],
    );
    // An orphan: a call whose process died right after it was created (nothing here drives it).
    const orphan = 'call_test_' + 'o'.repeat(27);
    await gw.database.sql.query(
      `WITH c AS (INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel, metadata, last_sequence, provider, created_at)
                  VALUES ($1, $2, 'test', 'outbound', 'initiated', $3, '+15005550001', 'pstn', 'pstn', '{}', 1, 'simulator', now() - interval '1 minute') RETURNING id)
       INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at)
       SELECT 'evt_' || substr(md5(id), 1, 27), id, $2, 'test', 1, 'initiated', NULL, now() - interval '1 minute' FROM c`,
      [orphan, quiet.id, quiet.number],
    );
    await eventually(
      async () => (await gql(gw.url, quiet.testKey, CallStateDocument, { id: orphan })).data!.call?.status === 'COMPLETED',
      20_000,
      'the orphan to be resumed and complete',
    );
  }, 60_000);
});
