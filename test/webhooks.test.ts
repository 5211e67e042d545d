import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import pg from 'pg';
import { bootGateway, eventually, gql, listenersRegistered, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { Receiver } from './helpers/receiver.js';
import {
  CreateCallDocument,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  RedeliverWebhookDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointDetailsDocument,
  WebhookEndpointsDocument,
} from './gql/graphql.js';

let gw: TestGateway;
let receiver: Receiver;
beforeAll(async () => {
  // Retries after 50 ms instead of 5 s, 5 min …; the receiver is on loopback, so private
  // addresses are allowed here (the SSRF tests below boot a gateway without that).
  gw = await bootGateway({ env: { WEBHOOK_RETRY_SCHEDULE_MS: '0,50,50,50', WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await gw.stop();
  await receiver.stop();
});

async function endpoint(app: TestApp, url = receiver.url, events?: string[]) {
  const { data } = await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url, events: events as never } });
  expect(data!.createWebhookEndpoint.userErrors).toEqual([]);
  return { id: data!.createWebhookEndpoint.endpoint!.id, secret: data!.createWebhookEndpoint.secret! };
}
const forCall = (callId: string) => receiver.received.filter((request) => request.json?.data?.call?.id === callId);
const deliveries = async (app: TestApp, filter: Record<string, unknown> = {}) =>
  (await gql(gw.url, app.testKey, WebhookDeliveriesDocument, { filter, first: 100 })).data!.webhookDeliveries.nodes;

describe('outbound webhooks (Standard Webhooks, standardwebhooks package)', () => {
  it('every status of a call arrives signed, with its metadata; ordered by timestamp, in the order the subscription sees', async () => {
    const app = await newApp(gw.admin);
    const { id: endpointId, secret } = await endpoint(app);
    expect(secret).toMatch(/^whsec_/);
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus { status call { id } } }`, {});
      await listenersRegistered(gw, before + 1);
      const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001', metadata: { order: 'A-17' } } })).data!
        .createCall.call!;
      const seen = await sub.until((items) => items.length >= 4);
      sub.stop();
      await eventually(() => forCall(call.id).length >= 4, 10_000, 'four deliveries');
      // Deliveries of one call may arrive in any order (up to 4 of an endpoint are in flight at
      // once; the README says so): ordered by their `timestamp` (the event's time), they are the
      // subscription's sequence.
      const got = [...forCall(call.id)].sort((a, b) => (a.json.timestamp < b.json.timestamp ? -1 : a.json.timestamp > b.json.timestamp ? 1 : 0));
      for (const request of got) {
        expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
        expect(request.json).toMatchObject({
          eventId: expect.stringMatching(/^evt_/),
          timestamp: expect.any(String),
          data: { call: { id: call.id, metadata: { order: 'A-17' } }, app: { id: app.id } },
        });
      }
      const toEvent = (status: string) => (status === 'IN_PROGRESS' ? 'calls.answered' : `calls.${status.toLowerCase()}`);
      expect(got.map((request) => request.json.event)).toEqual(seen.map((event: { status: string }) => toEvent(event.status)));
      // data.call is the platform's call object: its 16 field names, its lower-case values.
      expect(got.map((request) => request.json.data.call.status)).toEqual(seen.map((event: { status: string }) => event.status.toLowerCase()));
      expect(Object.keys(got[0]!.json.data.call).sort()).toEqual(
        [
          'id',
          'appId',
          'direction',
          'status',
          'fromAddress',
          'toAddress',
          'fromChannel',
          'toChannel',
          'duration',
          'endReason',
          'metadata',
          'livekitRoomName',
          'startedAt',
          'answeredAt',
          'endedAt',
          'createdAt',
        ].sort(),
      );
      expect(got[0]!.json.data.call).toMatchObject({
        direction: 'outbound',
        status: 'initiated',
        fromChannel: 'pstn',
        toChannel: 'pstn',
        livekitRoomName: null,
      });
      expect(new Set(got.map((request) => request.headers['webhook-id'])).size).toBe(4);
      // The receiver answers before the worker records the attempt: wait for the records.
      let listed: Awaited<ReturnType<typeof deliveries>> = [];
      await eventually(
        async () => (listed = await deliveries(app, { callId: call.id })).every((d) => d.status !== 'PENDING'),
        10_000,
        'four recorded attempts',
      );
      expect(listed.map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED']);
      expect(listed.every((d) => d.endpointId === endpointId && d.attempts.length === 1 && d.attempts[0]!.statusCode === 200)).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it('data.call is the call as it was at the event, even when the fan-out runs after the call has ended', async () => {
    const app = await newApp(gw.admin);
    await endpoint(app);
    // Hold the fan-out (it takes the deliveries cursor FOR UPDATE) until the call has ended.
    const holder = new pg.Client({ connectionString: gw.databaseUrl });
    await holder.connect();
    let callId = '';
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT position FROM webhook_cursor WHERE name = 'deliveries' FOR UPDATE`);
      callId = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } })).data!.createCall.call!.id;
      await eventually(
        async () => (await rawGql(gw.url, app.testKey, { query: `{ call(id: "${callId}") { status } }` })).data.call.status === 'COMPLETED',
        10_000,
        'the call to end',
      );
      expect(forCall(callId)).toHaveLength(0);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    await eventually(() => forCall(callId).length >= 4, 10_000, 'four deliveries');
    const at = (event: string) => forCall(callId).find((request) => request.json.event === event)!.json.data.call;
    const times = (call: Record<string, unknown>) =>
      [call.startedAt, call.answeredAt, call.endedAt, call.endReason, call.duration].map((value) => value !== null);
    expect(times(at('calls.initiated'))).toEqual([false, false, false, false, false]);
    expect(times(at('calls.ringing'))).toEqual([true, false, false, false, false]);
    expect(times(at('calls.answered'))).toEqual([true, true, false, false, false]);
    expect(times(at('calls.completed'))).toEqual([true, true, true, true, true]);
    expect(at('calls.completed')).toMatchObject({ status: 'completed', endReason: 'hangup' });
  });

  it('an endpoint receives the events that happen after it exists, not earlier ones', async () => {
    const app = await newApp(gw.admin);
    const before = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550002' } })).data!.createCall.call!;
    await gw.gateway.eventLog.settle();
    await eventually(
      async () => (await gw.database.sql.query(`SELECT 1 FROM call WHERE id = $1 AND status = 'busy'`, [before.id])).length === 1,
      10_000,
      'the first call to end',
    );
    await endpoint(app, receiver.url);
    const after = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550002' } })).data!.createCall.call!;
    await eventually(() => forCall(after.id).length >= 2, 10_000, "the second call's events");
    expect(forCall(before.id)).toEqual([]);
    expect((await deliveries(app)).every((d) => d.callId === after.id)).toBe(true);
  });

  it('only subscribed events are sent', async () => {
    const app = await newApp(gw.admin);
    await endpoint(app, receiver.url, ['CALLS_COMPLETED']);
    const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } })).data!.createCall.call!;
    await eventually(() => forCall(call.id).length >= 1, 10_000, 'the completed event');
    await eventually(async () => (await deliveries(app)).length === 1, 10_000, 'one delivery');
    expect(forCall(call.id).map((r) => r.json.event)).toEqual(['calls.completed']);
  });

  it('a receiver failing twice then recovering gets the event with the same webhook-id; every attempt is listed', async () => {
    const app = await newApp(gw.admin);
    const url = `${receiver.url}?flaky=${app.id}`;
    let failures = 0;
    const previous = receiver.respond;
    receiver.respond = (request) => (request.json?.data?.app?.id === app.id && request.json.event === 'calls.initiated' && failures++ < 2 ? 500 : 200);
    try {
      await endpoint(app, url, ['CALLS_INITIATED']);
      const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!;
      await eventually(() => forCall(call.id).length >= 3, 10_000, 'three attempts');
      const got = forCall(call.id);
      expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
      let listed = await deliveries(app);
      await eventually(async () => (listed = await deliveries(app))[0]?.status === 'DELIVERED', 10_000, 'DELIVERED');
      expect(listed[0]!.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
      expect(listed[0]!.id).toBe(got[0]!.headers['webhook-id']);
    } finally {
      receiver.respond = previous;
    }
  });

  it('410 Gone disables the endpoint; later events are not queued for it', async () => {
    const app = await newApp(gw.admin);
    const previous = receiver.respond;
    receiver.respond = (request) => (request.json?.data?.app?.id === app.id ? 410 : 200);
    try {
      await endpoint(app, receiver.url, ['CALLS_INITIATED']);
      await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
      let listed = (await gql(gw.url, app.testKey, WebhookEndpointsDocument, {})).data!.webhookEndpoints;
      await eventually(
        async () => !(listed = (await gql(gw.url, app.testKey, WebhookEndpointsDocument, {})).data!.webhookEndpoints)[0]!.enabled,
        10_000,
        'disabled',
      );
      expect(listed[0]).toMatchObject({ enabled: false, url: receiver.url });
      const [failed] = await deliveries(app);
      expect(failed).toMatchObject({ status: 'FAILED', attemptCount: 1 });
      await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
      await gw.gateway.eventLog.settle();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await deliveries(app)).toHaveLength(1);
    } finally {
      receiver.respond = previous;
    }
  });

  it('webhookDeliveries pages through every delivery with its own endCursor; a call cursor is refused as after', async () => {
    const app = await newApp(gw.admin);
    await endpoint(app);
    const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } })).data!.createCall.call!;
    await eventually(() => forCall(call.id).length >= 4, 10_000, 'four deliveries');
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } = (
        await gql(gw.url, app.testKey, WebhookDeliveriesDocument, { filter: {}, first: 1, after })
      ).data!.webhookDeliveries;
      seen.push(...result.nodes.map((node: { id: string }) => node.id));
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor!;
    }
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    const callCursor = Buffer.from(`c1|${new Date().toISOString()}|${call.id}`).toString('base64url');
    const refused = await gql(gw.url, app.testKey, WebhookDeliveriesDocument, { filter: {}, first: 1, after: callCursor });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('after rotateWebhookSecret both the old and the new secret verify deliveries (24 h overlap)', async () => {
    const app = await newApp(gw.admin);
    const { id, secret: old } = await endpoint(app, receiver.url, ['CALLS_INITIATED']);
    const rotated = (await gql(gw.url, app.testKey, RotateWebhookSecretDocument, { input: { id } })).data!.rotateWebhookSecret;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(old);
    const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!;
    await eventually(() => forCall(call.id).length >= 1, 10_000, 'the delivery');
    const [request] = forCall(call.id);
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(request!.body, request!.headers)).not.toThrow();
    expect(() => new Webhook(rotated.secret!).verify(request!.body, request!.headers)).not.toThrow();
    expect(() => new Webhook('whsec_' + Buffer.alloc(24).toString('base64')).verify(request!.body, request!.headers)).toThrow();
  });

  it('redeliverWebhook sends a delivery again with the same webhook-id', async () => {
    const app = await newApp(gw.admin);
    await endpoint(app, receiver.url, ['CALLS_INITIATED']);
    const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!;
    await eventually(async () => (await deliveries(app))[0]?.status === 'DELIVERED', 10_000, 'DELIVERED');
    const [delivery] = await deliveries(app);
    const again = (await gql(gw.url, app.testKey, RedeliverWebhookDocument, { input: { id: delivery!.id } })).data!.redeliverWebhook;
    expect(again).toMatchObject({ userErrors: [], delivery: { id: delivery!.id, status: 'PENDING' } });
    await eventually(() => forCall(call.id).length >= 2, 10_000, 'the redelivery');
    expect(forCall(call.id).map((r) => r.headers['webhook-id'])).toEqual([delivery!.id, delivery!.id]);
  });
});

describe("endpoints are the application's own, per mode", () => {
  it('managing an endpoint: disable, re-enable, move, rotate, delete; each answer is what the list shows, times from the database', async () => {
    const app = await newApp(gw.admin);
    const update = async (input: Record<string, unknown>) =>
      (await gql(gw.url, app.testKey, UpdateWebhookEndpointDocument, { input: input as never })).data!.updateWebhookEndpoint;
    const details = async () => (await gql(gw.url, app.testKey, WebhookEndpointDetailsDocument, {})).data!.webhookEndpoints;
    const [{ now: before }] = await gw.database.sql.query<{ now: Date }>('SELECT now()');
    const first = await endpoint(app, receiver.url, ['CALLS_INITIATED']);

    expect((await update({ id: first.id, enabled: false })).endpoint).toMatchObject({ enabled: false, disabledReason: 'disabled by the application' });
    expect((await update({ id: first.id, url: `${receiver.url}moved` })).endpoint).toMatchObject({
      enabled: false,
      url: `${receiver.url}moved`,
      events: ['CALLS_INITIATED'],
    });
    const enabled = await update({ id: first.id, enabled: true, events: [] });
    expect(enabled.userErrors).toEqual([]);
    expect(enabled.endpoint).toEqual({ id: first.id, url: `${receiver.url}moved`, events: [], enabled: true, disabledReason: null, failingSince: null });
    const rotated = (await gql(gw.url, app.testKey, RotateWebhookSecretDocument, { input: { id: first.id } })).data!.rotateWebhookSecret;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(first.secret);
    const [{ rotated: rotatedInDb }] = await gw.database.sql.query<{ rotated: boolean }>(
      `SELECT previous_secret IS NOT NULL AND previous_secret_expires_at > now() + interval '23 hours' AS rotated FROM webhook_endpoint WHERE id = $1`,
      [first.id],
    );
    expect(rotatedInDb).toBe(true);

    const second = await endpoint(app);
    const listed = await details();
    expect(listed.map((e) => e.id)).toEqual([first.id, second.id]);
    expect(listed[0]).toMatchObject({ url: `${receiver.url}moved`, events: [], enabled: true });
    // Created by the database's clock (events are compared with it), not this process's.
    const [{ now: after }] = await gw.database.sql.query<{ now: Date }>('SELECT now()');
    for (const e of listed) {
      expect(new Date(e.createdAt as string).getTime()).toBeGreaterThanOrEqual(before.getTime());
      // + 1 ms: stored to the millisecond (rounded), read back truncated.
      expect(new Date(e.createdAt as string).getTime()).toBeLessThanOrEqual(after.getTime() + 1);
    }

    expect((await gql(gw.url, app.testKey, DeleteWebhookEndpointDocument, { input: { id: first.id } })).data!.deleteWebhookEndpoint).toEqual({
      deletedEndpointId: first.id,
      userErrors: [],
    });
    expect((await details()).map((e) => e.id)).toEqual([second.id]);
    expect((await gql(gw.url, app.testKey, DeleteWebhookEndpointDocument, { input: { id: first.id } })).data!.deleteWebhookEndpoint.userErrors[0]!.code).toBe(
      'WEBHOOK_ENDPOINT_NOT_FOUND',
    );
  });

  it('another application (or the other mode) sees none of them and cannot change them', async () => {
    const mine = await newApp(gw.admin);
    const theirs = await newApp(gw.admin);
    const { id } = await endpoint(mine, receiver.url, ['CALLS_INITIATED']);
    await gql(gw.url, mine.testKey, CreateCallDocument, { input: { from: mine.number, to: '+15005550006' } });
    await eventually(async () => (await deliveries(mine)).length === 1, 10_000, 'a delivery');
    const [delivery] = await deliveries(mine);
    for (const key of [theirs.testKey, mine.liveKey]) {
      expect((await gql(gw.url, key, WebhookEndpointsDocument, {})).data!.webhookEndpoints).toEqual([]);
      expect((await gql(gw.url, key, WebhookDeliveriesDocument, {})).data!.webhookDeliveries.nodes).toEqual([]);
      expect(
        (await gql(gw.url, key, UpdateWebhookEndpointDocument, { input: { id, events: ['CALLS_RINGING'] as never } })).data!.updateWebhookEndpoint
          .userErrors[0]!.code,
      ).toBe('WEBHOOK_ENDPOINT_NOT_FOUND');
      expect((await gql(gw.url, key, DeleteWebhookEndpointDocument, { input: { id } })).data!.deleteWebhookEndpoint.userErrors[0]!.code).toBe(
        'WEBHOOK_ENDPOINT_NOT_FOUND',
      );
      expect((await gql(gw.url, key, RotateWebhookSecretDocument, { input: { id } })).data!.rotateWebhookSecret.userErrors[0]!.code).toBe(
        'WEBHOOK_ENDPOINT_NOT_FOUND',
      );
      expect((await gql(gw.url, key, RedeliverWebhookDocument, { input: { id: delivery!.id } })).data!.redeliverWebhook.userErrors[0]!.code).toBe(
        'WEBHOOK_DELIVERY_NOT_FOUND',
      );
    }
    expect((await gql(gw.url, mine.testKey, WebhookEndpointsDocument, {})).data!.webhookEndpoints).toEqual([
      { id, url: receiver.url, events: ['CALLS_INITIATED'], enabled: true },
    ]);
    expect((await gql(gw.url, mine.testKey, DeleteWebhookEndpointDocument, { input: { id } })).data!.deleteWebhookEndpoint).toEqual({
      deletedEndpointId: id,
      userErrors: [],
    });
  });
});

describe('SSRF: endpoints of either mode may not point inside the network', () => {
  // As an operator runs it: WEBHOOK_ALLOW_PRIVATE_URLS unset. No request leaves: every URL here is
  // refused at creation, before any connection.
  let guarded: TestGateway;
  beforeAll(async () => {
    guarded = await bootGateway();
  });
  afterAll(() => guarded.stop());

  it.each([
    ['http://127.0.0.1:8080/hook', 'URL_NOT_ALLOWED'],
    ['http://127.0.0.1:54329/', 'URL_NOT_ALLOWED'],
    ['http://10.0.0.1/hook', 'URL_NOT_ALLOWED'],
    ['http://192.168.1.20/hook', 'URL_NOT_ALLOWED'],
    ['http://172.16.5.4/hook', 'URL_NOT_ALLOWED'],
    ['http://100.64.0.1/hook', 'URL_NOT_ALLOWED'],
    ['http://169.254.169.254/latest/meta-data/', 'URL_NOT_ALLOWED'],
    ['http://2130706433/hook', 'URL_NOT_ALLOWED'],
    ['http://0x7f.1/hook', 'URL_NOT_ALLOWED'],
    ['http://0.0.0.0:4000/hook', 'URL_NOT_ALLOWED'],
    ['http://[::1]:8080/hook', 'URL_NOT_ALLOWED'],
    ['http://[::]/hook', 'URL_NOT_ALLOWED'],
    ['http://[::ffff:10.0.0.1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[::ffff:a9fe:a9fe]/hook', 'URL_NOT_ALLOWED'],
    ['http://[::ffff:7f00:1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[::7f00:1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[::a00:1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[64:ff9b::a9fe:a9fe]/hook', 'URL_NOT_ALLOWED'],
    ['http://[64:ff9b:1::a00:1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[2002:a9fe:a9fe::]/hook', 'URL_NOT_ALLOWED'],
    ['http://[2002:7f00:1::1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[100::1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[2001::1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[fe80::1]/hook', 'URL_NOT_ALLOWED'],
    ['http://[fd00::1]/hook', 'URL_NOT_ALLOWED'],
    ['http://localhost:4000/hook', 'URL_NOT_ALLOWED'],
    ['ftp://example.com/hook', 'INVALID_URL'],
    ['https://user:pass@example.com/hook', 'INVALID_URL'],
    ['not a url', 'INVALID_URL'],
  ])('%s → %s with a test key and a live key, nothing created', async (url, code) => {
    const app = await newApp(guarded.admin);
    for (const key of [app.testKey, app.liveKey]) {
      const { data } = await gql(guarded.url, key, CreateWebhookEndpointDocument, { input: { url } });
      expect(data!.createWebhookEndpoint).toMatchObject({ endpoint: null, secret: null, userErrors: [{ code, field: ['input', 'url'] }] });
      expect((await gql(guarded.url, key, WebhookEndpointsDocument, {})).data!.webhookEndpoints).toEqual([]);
    }
  });

  it('an endpoint may not be moved inside the network either', async () => {
    const app = await newApp(guarded.admin);
    const created = await gql(guarded.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: 'https://93.184.215.14/hook' } });
    const id = created.data!.createWebhookEndpoint.endpoint!.id;
    const moved = await gql(guarded.url, app.testKey, UpdateWebhookEndpointDocument, { input: { id, url: 'http://169.254.169.254/' } });
    expect(moved.data!.updateWebhookEndpoint.userErrors).toEqual([expect.objectContaining({ code: 'URL_NOT_ALLOWED', field: ['input', 'url'] })]);
    expect((await gql(guarded.url, app.testKey, WebhookEndpointsDocument, {})).data!.webhookEndpoints).toEqual([
      expect.objectContaining({ id, url: 'https://93.184.215.14/hook' }),
    ]);
    await gql(guarded.url, app.testKey, DeleteWebhookEndpointDocument, { input: { id } });
  });

  it('unknown events are refused', async () => {
    const app = await newApp(gw.admin);
    const { errors } = await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: receiver.url, events: ['calls.exploded'] as never } });
    expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
