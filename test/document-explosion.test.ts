import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { wsClient } from './helpers/ws.js';

// Documents of about a kilobyte whose naive walk is exponential: each fragment spreads the next
// one twice (or ten times), 2^30 visits of the last one. Every validation rule must do work
// linear in the document, so these are refused at once and the process keeps answering others.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ config: { production: true } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function chain(levels: number, body: (next: string) => string, last: string, on = 'Query', fanOut = 2): string {
  const fragments = range(levels).map(
    (i) =>
      `fragment F${i} on ${on} { ${body(
        range(fanOut)
          .map(() => `...F${i + 1}`)
          .join(' '),
      )} }`,
  );
  return `query { ...F0 } ${fragments.join(' ')} fragment F${levels} on ${on} { ${last} }`;
}

const DOCUMENTS: Record<string, string> = {
  'spreads doubling 30 times': chain(30, (next) => next, '__typename'),
  'spreads doubling 30 times, with a list at the end': chain(30, (next) => next, 'calls(first: 100) { totalCount }'),
  'inline fragments doubling 30 times': chain(30, (next) => `... on Query { ${next} } ... on Query { ${next} }`, '__typename'),
  'spreads ×10 at each of 9 levels': chain(9, (next) => next, 'calls { nodes { id } }', 'Query', 10),
  'nested lists through fragments': `query { calls(first: 100) { nodes { ...C0 } } } ${range(12)
    .map((i) => `fragment C${i} on Call { events(first: 100) { nodes { call { ...C${i + 1} ...C${i + 1} } } } }`)
    .join(' ')} fragment C12 on Call { id }`,
  'same field merged at 2^25 places': chain(25, (next) => `${next} calls { totalCount }`, 'calls { totalCount }'),
  // graphql-js's OverlappingFieldsCanBeMerged compares fields pairwise; its complexity budget aborts it.
  '428 same-named fields to merge pairwise': `{ ${'calls { nodes { id } } '.repeat(428)}}`,
};

async function healthLatency(base: string, until: Promise<unknown>): Promise<number> {
  let worst = 0;
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const started = performance.now();
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    worst = Math.max(worst, performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return worst;
}

describe('documents that explode when walked naively are refused at once, and the process keeps answering', () => {
  for (const [name, query] of Object.entries(DOCUMENTS)) {
    it(`${name} (${query.length} bytes): HTTP and WebSocket`, async () => {
      expect(query.length).toBeLessThan(12_000);
      const base = gw.url.replace(/\/graphql$/, '');
      const before = gw.gateway.executions;

      const started = performance.now();
      const request = rawGql(gw.url, app.testKey, { query });
      const [response, worstHealth] = await Promise.all([request, healthLatency(base, request)]);
      const elapsed = performance.now() - started;
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      // The pairwise merge is bounded by graphql-js's complexity budget (100–260 ms measured on
      // this machine), the fragment families by our linear rule (a few ms): both well under a second.
      const budget = name.includes('pairwise') ? 800 : 500;
      expect(elapsed).toBeLessThan(budget);
      expect(worstHealth).toBeLessThan(budget);

      const client = wsClient(gw.wsUrl, app.testKey);
      try {
        const wsStarted = performance.now();
        const errors = await new Promise<unknown[]>((resolve) => {
          client.subscribe({ query }, { next: () => {}, error: (error) => resolve(Array.isArray(error) ? error : [error]), complete: () => resolve([]) });
        });
        expect(performance.now() - wsStarted).toBeLessThan(name.includes('pairwise') ? 800 : 500);
        expect(errors.length).toBeGreaterThan(0);
        expect((errors[0] as { extensions?: { code?: string } }).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      } finally {
        await client.dispose();
      }
      expect(gw.gateway.executions - before).toBe(0);
    });
  }

  it('an ordinary document with fragments spread at several places is still accepted', async () => {
    const query = `query { a: calls(first: 10) { nodes { ...C } } b: calls(first: 10) { nodes { ...C } } }
      fragment C on Call { id status events { nodes { ...E } } } fragment E on CallEvent { sequence status }`;
    const response = await rawGql(gw.url, app.testKey, { query });
    expect(response.errors).toBeUndefined();
    expect(response.status).toBe(200);
  });
});
