import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
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
    const body = JSON.parse(/-d '(\{[\s\S]*?\})'/.exec(curl.text)![1]!) as { query: string; variables: { input: Record<string, unknown> } };
    body.variables.input.from = app.number;
    const created = await rawGql(gw.url, app.testKey, body);
    expect(created.errors).toBeUndefined();
    expect(created.data.createCall.userErrors).toEqual([]);
    const callId = created.data.createCall.call.id as string;

    const follow = blocks.find((block) => block.lang === 'graphql' && block.info === 'runnable')!;
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const events = collect(client, follow.text, { callId });
      const seen = await events.until((items) => items.some((item) => item.call.status === 'COMPLETED'));
      events.stop();
      expect(seen.map((item) => item.status)).toEqual(expect.arrayContaining(['RINGING', 'IN_PROGRESS', 'COMPLETED']));
      expect(seen.every((item) => typeof item.cursor === 'string' && item.call.id === callId)).toBe(true);
    } finally {
      await client.dispose();
    }
  });
});
