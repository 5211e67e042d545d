import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { bootGateway, eventually, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/cli.js';
import { Receiver } from './helpers/receiver.js';
import {
  CreateCallDocument,
  CreateWebhookEndpointDocument,
  RotateStatusCallbackSecretDocument,
  RotateWebhookSecretDocument,
  WebhookEndpointsDocument,
} from './gql/graphql.js';

const key = () => randomBytes(32).toString('base64');
const ENV = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_MS: '50' };

let receiver: Receiver;
beforeAll(async () => {
  receiver = await new Receiver().start();
});
afterAll(() => receiver.stop());

async function deliveredAndVerified(gw: TestGateway, app: TestApp, secrets: string[]): Promise<void> {
  const call = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!;
  await eventually(() => receiver.received.some((request) => request.json?.data?.call?.id === call.id), 10_000, 'a delivery');
  const request = receiver.received.find((r) => r.json?.data?.call?.id === call.id)!;
  for (const secret of secrets) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
}

describe('webhook signing secrets are sealed at rest (SECRETS_KEY)', () => {
  it('the database holds no secret, deliveries are still signed with it, before and after rotateWebhookSecret', async () => {
    const gw = await bootGateway({ env: { ...ENV, SECRETS_KEY: `k1:${key()}` } });
    try {
      const app = await newApp(gw.admin);
      const created = (await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: receiver.url, events: ['CALLS_INITIATED'] as never } }))
        .data!.createWebhookEndpoint;
      const stored = async () =>
        (
          await gw.database.sql.query<{ secret: string; previous: string | null }>(
            `SELECT secret, previous_secret AS previous FROM webhook_endpoint WHERE id = $1`,
            [created.endpoint!.id],
          )
        )[0]!;
      expect((await stored()).secret).toMatch(/^enc:v1:k1:/);
      expect(JSON.stringify(await stored())).not.toContain(created.secret!.slice(6));
      await deliveredAndVerified(gw, app, [created.secret!]);

      const rotated = (await gql(gw.url, app.testKey, RotateWebhookSecretDocument, { input: { id: created.endpoint!.id } })).data!.rotateWebhookSecret;
      const after = await stored();
      expect(after.secret).toMatch(/^enc:v1:k1:/);
      expect(after.previous).toMatch(/^enc:v1:k1:/);
      expect(JSON.stringify(after)).not.toContain(rotated.secret!.slice(6));
      await deliveredAndVerified(gw, app, [created.secret!, rotated.secret!]);
    } finally {
      await gw.stop();
    }
  });

  it('rotation path: plaintext secrets of before, then a new key put first, are sealed again by `secrets rotate`; the old key can then go', async () => {
    const plain = await bootGateway({ env: ENV });
    const [k2, k3] = [`k2:${key()}`, `k3:${key()}`];
    try {
      const app = await newApp(plain.admin);
      const secret = (await gql(plain.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: receiver.url, events: ['CALLS_INITIATED'] as never } }))
        .data!.createWebhookEndpoint.secret!;
      const stored = async () =>
        (await plain.database.sql.query<{ secret: string }>(`SELECT secret FROM webhook_endpoint WHERE app_id = $1`, [app.id]))[0]!.secret;
      expect(await stored()).toBe(secret);
      // The status-callback secret (createCall's statusCallbackUrl) is sealed and resealed the same way.
      const statusSecret = (await gql(plain.url, app.testKey, RotateStatusCallbackSecretDocument, {})).data!.rotateStatusCallbackSecret.secret!;
      const storedStatus = async () =>
        (await plain.database.sql.query<{ secret: string }>(`SELECT secret FROM status_callback_secret WHERE app_id = $1`, [app.id]))[0]!.secret;
      expect(await storedStatus()).toBe(statusSecret);

      const first = await runCli(['secrets', 'rotate', '--json'], { DATABASE_URL: plain.databaseUrl, SECRETS_KEY: k2 });
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ resealed: 2 });
      expect(await stored()).toMatch(/^enc:v1:k2:/);
      expect(await storedStatus()).toMatch(/^enc:v1:k2:/);

      const second = await runCli(['secrets', 'rotate', '--json'], { DATABASE_URL: plain.databaseUrl, SECRETS_KEY: `${k3},${k2}` });
      expect(JSON.parse(second.stdout)).toEqual({ resealed: 2 });
      expect(await stored()).toMatch(/^enc:v1:k3:/);
      expect(await storedStatus()).toMatch(/^enc:v1:k3:/);

      // Every process now runs with the new key: the old gateway stops, one with SECRETS_KEY=k3 takes over.
      await plain.gateway.stop();
      const sealed = await bootGateway({ env: { ...ENV, SECRETS_KEY: k3 }, shareDatabaseWith: plain });
      try {
        await deliveredAndVerified(sealed, app, [secret]);
        const call = (
          await gql(sealed.url, app.testKey, CreateCallDocument, {
            input: { from: app.number, to: '+15005550006', statusCallbackUrl: `${receiver.url}/status` },
          })
        ).data!.createCall.call!;
        await eventually(
          () => receiver.received.some((r) => r.json?.data?.call?.id === call.id && r.json.event === 'calls.ringing'),
          10_000,
          'a status callback',
        );
        const callback = receiver.received.find((r) => r.json?.data?.call?.id === call.id && r.json.event === 'calls.ringing')!;
        expect(() => new Webhook(statusSecret).verify(callback.body, callback.headers)).not.toThrow();
      } finally {
        await sealed.stop();
      }
      const refused = await runCli(['secrets', 'rotate'], { DATABASE_URL: plain.databaseUrl, SECRETS_KEY: 'k4:short' });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/SECRETS_KEY must be/);
    } finally {
      await plain.stop();
    }
  });
});

describe('the endpoint limit holds under concurrency', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await bootGateway({ env: ENV });
  });
  afterAll(() => gw.stop());

  it('25 concurrent createWebhookEndpoint: exactly 20 are created, 5 refused', async () => {
    const app = await newApp(gw.admin);
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: `${receiver.url}?n=${i}` } })),
    );
    const created = results.filter((result) => result.data!.createWebhookEndpoint.endpoint);
    const refused = results.filter((result) => result.data!.createWebhookEndpoint.userErrors.length);
    expect(created).toHaveLength(20);
    expect(refused).toHaveLength(5);
    expect(refused[0]!.data!.createWebhookEndpoint.userErrors[0]!.message).toMatch(/At most 20 endpoints/);
    expect((await gql(gw.url, app.testKey, WebhookEndpointsDocument, {})).data!.webhookEndpoints).toHaveLength(20);
  });
});
