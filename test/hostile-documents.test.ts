import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { bootGateway, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { connectRaw, wsClient } from './helpers/ws.js';
import { LIMITS } from '../src/graphql/limits.js';

// One gateway in production mode (introspection off), as attackers meet it.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ config: { production: true } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const N = 60;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function nest(depth: number): string {
  let inner = 'id';
  for (let level = 0; level < depth; level++) inner = level % 2 === 0 ? `call { events { nodes { ${inner} } } }` : `events { nodes { ${inner} } }`;
  return `{ calls { nodes { ${inner} } } }`;
}

/** ≥ 60 hostile documents of each kind, all different. */
const FAMILIES: Record<string, string[]> = {
  'deep nesting': range(N).map((i) => nest(LIMITS.depth + 1 + i)),
  'alias floods': range(N).map(
    (i) =>
      `{ ${range(LIMITS.aliases + 1 + i * 7)
        .map((a) => (a % 2 ? `a${a}: __typename` : `a${a}: calls { totalCount }`))
        .join(' ')} }`,
  ),
  'directive floods': range(N).map((i) => `{ calls ${'@include(if: true) '.repeat(LIMITS.directives + 1 + i)} { totalCount } }`),
  'huge token counts': range(N).map((i) => `{ calls(filter: {status: [${'COMPLETED, '.repeat(LIMITS.tokens + i * 11)}]}) { totalCount } }`),
  'circular fragments': range(N).map((i) => `fragment A${i} on Call { id ...B${i} } fragment B${i} on Call { id ...A${i} } { calls { nodes { ...A${i} } } }`),
  'introspection in production': range(N).map((i) =>
    i % 2 ? `{ __schema { types { name f${i}: fields { name } } } }` : `{ __type(name: "Call${i % 3 ? '' : 'Event'}") { fields { name } } }`,
  ),
  'misspelled fields': range(N).map((i) =>
    ['{ calss { totalCount } }', '{ calls { totalCont } }', '{ call(id: "x") { statuss } }', '{ calls { nodes { fromAdress } } }'][i % 4]!.replace(
      '}',
      ` a${i}: __typename }`,
    ),
  ),
  'too many nodes': range(N).map(
    (i) => `{ calls(first: ${50 + i}) { nodes { events(first: 100) { nodes { call { events(first: ${10 + i}) { nodes { id } } } } } } } }`,
  ),
};

const LEAKS = [/Did you mean/i, /\b(12|20|3000|20000)\b/, /limit of/i];

function checkRefusal(errors: { message: string; extensions?: Record<string, unknown> }[] | undefined): void {
  expect(errors?.length).toBeGreaterThan(0);
  for (const error of errors!) {
    for (const leak of LEAKS) expect(error.message).not.toMatch(leak);
    expect(error.extensions?.stacktrace).toBeUndefined();
    expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT']).toContain(error.extensions?.code);
  }
}

function overWs(client: Client, query: string): Promise<{ message: string; extensions?: Record<string, unknown> }[]> {
  return new Promise((resolve) => {
    let errors: any[] = [];
    client.subscribe(
      { query },
      {
        next: (value) => (errors = (value.errors as any[]) ?? []),
        error: (error) => resolve(Array.isArray(error) ? error : [{ message: String(error) }]),
        complete: () => resolve(errors),
      },
    );
  });
}

describe('hostile documents are refused before any resolver runs, on both transports', () => {
  const total = Object.values(FAMILIES).reduce((sum, docs) => sum + docs.length, 0) + N;
  it(`${total} documents over HTTP`, async () => {
    const before = gw.gateway.executions;
    for (const [family, documents] of Object.entries(FAMILIES)) {
      for (const query of documents) {
        const response = await rawGql(gw.url, app.testKey, { query });
        expect(response.status, `${family}: ${query.slice(0, 80)}`).toBe(400);
        expect(response.data ?? null).toBeNull();
        checkRefusal(response.errors);
      }
    }
    // Batched arrays: batching is off.
    for (const i of range(N)) {
      const response = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
        body: JSON.stringify(range(2 + i).map(() => ({ query: '{ calls { totalCount } }' }))),
      });
      expect(response.status).toBe(400);
      expect(await response.text()).not.toMatch(/totalCount/);
    }
    expect(gw.gateway.executions - before).toBe(0);
  });

  it(`${total} documents over WebSocket`, async () => {
    const before = gw.gateway.executions;
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      for (const [family, documents] of Object.entries(FAMILIES)) {
        for (const query of documents) {
          const errors = await overWs(client, query);
          expect(errors.length, `${family}: ${query.slice(0, 80)}`).toBeGreaterThan(0);
          checkRefusal(errors);
        }
      }
    } finally {
      await client.dispose();
    }
    // A batched array is not a graphql-transport-ws message: the socket is closed (4400).
    for (const i of range(N)) {
      const { socket, acked } = await connectRaw(gw.wsUrl, { authorization: `Bearer ${app.testKey}` });
      expect(acked).toBe(true);
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(JSON.stringify(range(2 + i).map((n) => ({ id: String(n), type: 'subscribe', payload: { query: '{ calls { totalCount } }' } }))));
      expect(await closed).toBe(4400);
    }
    expect(gw.gateway.executions - before).toBe(0);
  });

  it('an ordinary page of calls with their events is still accepted on both transports', async () => {
    const query = '{ calls(first: 50) { nodes { id events { nodes { status } } } } }';
    const http = await rawGql(gw.url, app.testKey, { query });
    expect(http.errors).toBeUndefined();
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      expect(await overWs(client, query)).toEqual([]);
    } finally {
      await client.dispose();
    }
  });
});
