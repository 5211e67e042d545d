import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { bootGateway, eventually, gql, newApp, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { Receiver } from './helpers/receiver.js';
import {
  CreateCallDocument,
  RotateStatusCallbackSecretDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  type CreateCallInput,
} from './gql/graphql.js';

// createCall's statusCallbackUrl: a webhook of one call, signed with the application's
// status-callback secret. The receiver is on loopback, allowed here (WEBHOOK_ALLOW_PRIVATE_URLS);
// the refusal of private addresses is proved on a guarded gateway below, which sends nothing.
let gw: TestGateway;
let receiver: Receiver;
beforeAll(async () => {
  gw = await bootGateway({ env: { WEBHOOK_RETRY_SCHEDULE_MS: '0,50,50,50', WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await gw.stop();
  await receiver.stop();
});

const create = async (app: TestApp, input: Partial<CreateCallInput>) =>
  (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001', ...input } })).data!.createCall;
const endpointRows = async (appId: string) =>
  (await gw.database.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_endpoint WHERE app_id = $1`, [appId]))[0]!.n;
const forCall = (id: string) => receiver.received.filter((request) => request.json?.data?.call?.id === id);

describe('statusCallbackUrl', () => {
  it('needs the status-callback secret first: refused with the way to make it, and nothing is stored', async () => {
    const app = await newApp(gw.admin);
    const before = await rowCounts(gw.database, app.id);
    const refused = await create(app, { statusCallbackUrl: `${receiver.url}/none` });
    expect(refused.call).toBeNull();
    expect(refused.userErrors).toEqual([
      { code: 'STATUS_CALLBACK_SECRET_MISSING', field: ['input', 'statusCallbackUrl'], message: expect.stringMatching(/rotateStatusCallbackSecret/) },
    ]);
    expect(await rowCounts(gw.database, app.id)).toEqual(before);
    expect(await endpointRows(app.id)).toBe(0);
  });

  it("every event of the call goes to its URL, signed with the application's secret; the call's endpoint is not one of the application's", async () => {
    const app = await newApp(gw.admin);
    const { secret } = (await gql(gw.url, app.testKey, RotateStatusCallbackSecretDocument, {})).data!.rotateStatusCallbackSecret;
    expect(secret).toMatch(/^whsec_/);
    const call = (await create(app, { statusCallbackUrl: `${receiver.url}/calls/1`, metadata: { order: 9 } })).call!;
    expect(call.options.statusCallbackUrl).toBe(`${receiver.url}/calls/1`);
    const plain = (await create(app, {})).call!;
    await eventually(() => forCall(call.id).length >= 4, 10_000, 'four deliveries');
    const got = [...forCall(call.id)].sort((a, b) => (a.json.timestamp < b.json.timestamp ? -1 : 1));
    expect(got.map((request) => request.json.event)).toEqual(['calls.initiated', 'calls.ringing', 'calls.answered', 'calls.completed']);
    for (const request of got) {
      expect(() => new Webhook(secret!).verify(request.body, request.headers)).not.toThrow();
      expect(request.json.data.call).toMatchObject({ id: call.id, metadata: { order: 9 } });
    }
    // The plain call has no endpoint to go to; the application lists no endpoint of its own.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forCall(plain.id)).toEqual([]);
    expect((await gql(gw.url, app.testKey, WebhookEndpointsDocument, {})).data!.webhookEndpoints).toEqual([]);
    const deliveries = (await gql(gw.url, app.testKey, WebhookDeliveriesDocument, { filter: { callId: call.id }, first: 10 })).data!.webhookDeliveries.nodes;
    expect(deliveries).toHaveLength(4);
    expect(new Set(deliveries.map((delivery) => delivery.status))).toEqual(new Set(['DELIVERED']));
  });

  it('after a rotation, new deliveries verify with the new secret (and with the previous one for 24 h)', async () => {
    const app = await newApp(gw.admin);
    const first = (await gql(gw.url, app.testKey, RotateStatusCallbackSecretDocument, {})).data!.rotateStatusCallbackSecret.secret!;
    const second = (await gql(gw.url, app.testKey, RotateStatusCallbackSecretDocument, {})).data!.rotateStatusCallbackSecret.secret!;
    expect(second).not.toBe(first);
    const call = (await create(app, { to: '+15005550002', statusCallbackUrl: `${receiver.url}/calls/2` })).call!;
    await eventually(() => forCall(call.id).length >= 2, 10_000, 'two deliveries');
    for (const request of forCall(call.id)) {
      expect(() => new Webhook(second).verify(request.body, request.headers)).not.toThrow();
      expect(() => new Webhook(first).verify(request.body, request.headers)).not.toThrow();
    }
  });

  it('a replayed idempotent create leaves one endpoint, the first call’s', async () => {
    const app = await newApp(gw.admin);
    await gql(gw.url, app.testKey, RotateStatusCallbackSecretDocument, {});
    const input = { to: '+15005550006', idempotencyKey: 'cb-1', statusCallbackUrl: `${receiver.url}/calls/3` };
    const first = await create(app, input);
    const again = await create(app, input);
    expect(again).toMatchObject({ replayed: true, call: { id: first.call!.id } });
    expect(await endpointRows(app.id)).toBe(1);
  });
});

describe('statusCallbackUrl: guarded like endpoints (SSRF)', () => {
  let guarded: TestGateway;
  beforeAll(async () => {
    guarded = await bootGateway();
  });
  afterAll(() => guarded.stop());

  it.each([
    ['http://127.0.0.1:9/hook', 'URL_NOT_ALLOWED'],
    ['http://10.0.0.7/hook', 'URL_NOT_ALLOWED'],
    ['http://[::1]/hook', 'URL_NOT_ALLOWED'],
    ['http://169.254.169.254/latest/meta-data', 'URL_NOT_ALLOWED'],
    ['ftp://127.0.0.1/hook', 'INVALID_URL'],
    ['https://user:pw@127.0.0.1/hook', 'INVALID_URL'],
  ])('%s is refused (%s): no call, no endpoint, nothing sent', async (url, code) => {
    const app = await newApp(guarded.admin);
    await gql(guarded.url, app.testKey, RotateStatusCallbackSecretDocument, {});
    const before = await rowCounts(guarded.database, app.id);
    const result = (await gql(guarded.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001', statusCallbackUrl: url } })).data!
      .createCall;
    expect(result.call).toBeNull();
    expect(result.userErrors).toEqual([expect.objectContaining({ code, field: ['input', 'statusCallbackUrl'] })]);
    expect(await rowCounts(guarded.database, app.id)).toEqual(before);
    expect((await guarded.database.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_endpoint WHERE app_id = $1`, [app.id]))[0]!.n).toBe(0);
  });
});
