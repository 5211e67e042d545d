import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { wsClient, wsRequest } from './helpers/ws.js';

let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
});
afterAll(async () => {
  await gw.stop();
});

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(gw.url.replace('/graphql', '/metrics'))).text();
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => row.includes(`${key}="${value}"`)));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('one pipeline for HTTP and WebSocket', () => {
  it('a text is parsed and validated once, whichever transport sends it first', async () => {
    const query = `{ calls(first: 3) { totalCount nodes { id } } } # ${Math.random()}`;
    const before = gw.gateway.documentStats;
    expect((await rawGql(gw.url, app.testKey, { query })).errors).toBeUndefined();
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      for (let i = 0; i < 3; i++) expect((await wsRequest(client, query)).errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
    expect((await rawGql(gw.url, app.testKey, { query })).errors).toBeUndefined();
    const after = gw.gateway.documentStats;
    expect(after.parsed - before.parsed).toBe(1);
    expect(after.hits - before.hits).toBeGreaterThanOrEqual(4);
  });

  it('a refused text is refused from the cache the second time, with the same errors on both transports, and recorded as an error on each', async () => {
    const query = `{ calls { nodes { id nope } } } # ${Math.random()}`;
    const before = gw.gateway.documentStats;
    const httpErrorsBefore = await metric('graphql_operations_total', { transport: 'http', outcome: 'error', type: 'invalid' });
    const wsErrorsBefore = await metric('graphql_operations_total', { transport: 'ws', outcome: 'error', type: 'invalid' });
    const executionsBefore = gw.gateway.executions;
    const first = await rawGql(gw.url, app.testKey, { query });
    const second = await rawGql(gw.url, app.testKey, { query });
    expect(first.status).toBe(400);
    expect(second).toEqual(first);
    expect(first.errors).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const overWs = await wsRequest(client, query).catch((errors: unknown) => ({ errors }));
      expect(overWs.errors).toEqual(first.errors);
    } finally {
      await client.dispose();
    }
    expect(gw.gateway.documentStats.parsed - before.parsed).toBe(1);
    expect(gw.gateway.executions).toBe(executionsBefore);
    expect((await metric('graphql_operations_total', { transport: 'http', outcome: 'error', type: 'invalid' })) - httpErrorsBefore).toBe(2);
    expect((await metric('graphql_operations_total', { transport: 'ws', outcome: 'error', type: 'invalid' })) - wsErrorsBefore).toBe(1);
  });

  it('an unknown key is refused before its document is even parsed', async () => {
    const query = `{ calls { totalCount } } # ${Math.random()}`;
    const before = gw.gateway.documentStats;
    const response = await rawGql(gw.url, 'sk_test_app_nope', { query });
    expect(response.status).toBe(401);
    expect(response.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(gw.gateway.documentStats).toEqual(before);
  });
});

describe('the request log line', () => {
  const lines: Record<string, unknown>[] = [];
  let logged: TestGateway;
  beforeAll(async () => {
    const keep = (message: string, fields?: Record<string, unknown>) => {
      if (message === 'graphql request') lines.push(fields ?? {});
    };
    logged = await bootGateway({ simulator: 'frozen', logger: { info: keep, warn: keep, error: keep } });
  });
  afterAll(() => logged?.stop());

  it('names the code of an error raised in a resolver, as the client sees it, on HTTP and WebSocket alike', async () => {
    const owner = await newApp(logged.admin);
    const query = 'query TooMany { calls(first: 1000) { totalCount } }';
    expect((await rawGql(logged.url, owner.testKey, { query })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const client = wsClient(logged.wsUrl, owner.testKey);
    try {
      expect((await wsRequest(client, query)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await client.dispose();
    }
    const mine = lines.filter((line) => line.operation === 'TooMany');
    expect(mine.map((line) => [line.transport, line.errorCodes])).toEqual([
      ['http', ['BAD_USER_INPUT']],
      ['ws', ['BAD_USER_INPUT']],
    ]);
  });
});
