import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, listenersRegistered, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { codeBlocks, read } from './helpers/markdown.js';
import { collect, wsClient } from './helpers/ws.js';

/**
 * The README's walk-through, run as written against a test gateway: the createCall of its curl
 * example (its JSON body, with the test application's number), then the ```graphql runnable
 * subscription following that call to its end. test/unit/docs.test.ts validates every other
 * example against the schema.
 */
let gw: TestGateway;
let app: TestApp;

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'fast' });
  app = await newApp(gw.admin, 'docs');
});
afterAll(() => gw?.stop());

describe('the README walk-through', () => {
  it('places the call of the curl example and follows it with the runnable subscription to COMPLETED', async () => {
    const blocks = codeBlocks('README.md', read('README.md'));
    const curl = blocks.find((block) => block.lang === 'sh' && block.text.includes('createCall'))!;
    const follow = blocks.find((block) => block.lang === 'graphql' && block.info === 'runnable')!;
    const body = JSON.parse(/-d '(\{[\s\S]*?\})'/.exec(curl.text)![1]!) as { query: string; variables: { input: Record<string, unknown> } };
    body.variables.input.from = app.number;
    // The subscription (its callId left out: every call of this new application, which makes only
    // this one) is open before the call is made, so it sees every change: the simulator rings the
    // call within milliseconds.
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const events = collect(client, follow.text, {});
      await listenersRegistered(gw, before + 1);
      const created = await rawGql(gw.url, app.testKey, body);
      expect(created.errors).toBeUndefined();
      expect(created.data.createCall.userErrors).toEqual([]);
      const callId = created.data.createCall.call.id as string;
      const seen = await events.until((items) => items.some((item) => item.call.status === 'COMPLETED'));
      events.stop();
      expect(seen.map((item) => item.status)).toEqual(expect.arrayContaining(['RINGING', 'IN_PROGRESS', 'COMPLETED']));
      expect(seen.every((item) => typeof item.cursor === 'string' && item.call.id === callId)).toBe(true);
    } finally {
      await client.dispose();
    }
  });
});
