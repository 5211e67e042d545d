import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeAndFollow } from '../examples/client-example.js';
import { CallsGatewayError, CallsDocument, createCallsClient } from '../packages/client/src/index.js';
import { bootGateway, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';

let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  // Slow enough (≈1.5 s a call) that the call is still ringing when the example subscribes to it.
  gw = await bootGateway({ config: { simulatorTimeScale: 0.1 } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

describe('the typed client (client/) and the README example', () => {
  it('places a test call and follows it to COMPLETED', async () => {
    const statuses = await placeAndFollow(gw.url, app.testKey, app.number);
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses).toContain('IN_PROGRESS');
  });

  it('queries are typed and errors carry their code', async () => {
    const client = createCallsClient({ url: gw.url, apiKey: app.testKey });
    const { calls } = await client.request(CallsDocument, { first: 5 });
    expect(calls.nodes.length).toBeGreaterThan(0);
    const bad = createCallsClient({ url: gw.url, apiKey: 'sk_test_app_nope' });
    await expect(bad.request(CallsDocument, {})).rejects.toMatchObject({ name: 'CallsGatewayError', code: 'UNAUTHENTICATED' });
    await expect(client.request(CallsDocument, { first: 500 })).rejects.toBeInstanceOf(CallsGatewayError);
  });
});
