import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger } from '../src/server/logger.js';
import { bootGateway, gql, listenersRegistered, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';

const lines: string[] = [];
let gw: TestGateway;
let app: TestApp;
let base: string;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen', logger: jsonLogger({ service: 'test' }, { write: (line: string) => void lines.push(line) }) });
  app = await newApp(gw.admin);
  base = gw.url.replace(/\/graphql$/, '');
});
afterAll(() => gw.stop());

describe('operations: health, readiness, metrics, logs', () => {
  it('/healthz and /readyz answer 200 while the database and the bus are up', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('/metrics counts operations by name and outcome, and shows subscriptions, pool, log lag and webhook queue', async () => {
    await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
    await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: 'bad' } });
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, 'subscription { callStatus { sequence } }', {});
      await listenersRegistered(gw, before + 1);
      const text = await (await fetch(`${base}/metrics`)).text();
      sub.stop();
      expect(text).toMatch(/graphql_operations_total\{operation="createCall",type="mutation",outcome="ok",transport="http"\} 1/);
      expect(text).toMatch(/graphql_operations_total\{operation="createCall",type="mutation",outcome="user_error",transport="http"\} 1/);
      expect(text).toMatch(/graphql_operation_duration_seconds_bucket\{le="[0-9.]+",type="mutation",transport="http"\}/);
      expect(text).toMatch(/callstatus_subscriptions_active [1-9]/);
      expect(text).toMatch(/db_pool_connections\{state="total"\} \d+/);
      expect(text).toMatch(/event_log_lag_events \d+/);
      expect(text).toMatch(/webhook_queue_depth 0/);
      expect(text).toMatch(/process_cpu_user_seconds_total/);
    } finally {
      await client.dispose();
    }
  });

  it('one JSON log line per request, with request id, application, operation, outcome and duration, never the key', async () => {
    lines.length = 0;
    await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}`, 'x-request-id': 'req-abc-123' },
      body: JSON.stringify({ query: 'query Listing { calls { totalCount } }' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const entries = lines.map((line) => JSON.parse(line));
    const entry = entries.find((e) => e.msg === 'graphql request' && e.requestId === 'req-abc-123');
    expect(entry).toMatchObject({
      level: 'info',
      service: 'test',
      appId: app.id,
      mode: 'test',
      operation: 'Listing',
      type: 'query',
      outcome: 'ok',
      durationMs: expect.any(Number),
    });
    expect(lines.join('\n')).not.toContain(app.testKey);
    expect(lines.join('\n')).not.toContain(app.testKey.slice(12));
  });
});

describe('bounded metrics and probes', () => {
  it('the operation label is the root field, never the client-chosen operation name: 50 names make no new series', async () => {
    for (let i = 0; i < 50; i++)
      await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
        body: JSON.stringify({ query: `query Name${i}x { calls { totalCount } }` }),
      });
    await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}` },
      body: JSON.stringify({ query: 'query Two { calls { totalCount } call(id: "call_x") { id } }' }),
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).not.toMatch(/Name\d+x/);
    expect(text).toMatch(/graphql_operations_total\{operation="calls",type="query",outcome="ok",transport="http"\} (5\d|[6-9]\d|\d{3,})/);
    expect(text).toMatch(/graphql_operations_total\{operation="multiple",type="query"/);
  });

  it('every statement of the request path is cancelled by PostgreSQL past 30 s (statement_timeout on the pool)', async () => {
    const [row] = await gw.database.sql.query<{ timeout: string }>(`SELECT current_setting('statement_timeout') AS timeout`);
    expect(row!.timeout).toBe('30s');
  });

  it('METRICS_TOKEN keeps /metrics private', async () => {
    const guarded = await bootGateway({ simulator: 'frozen', env: { METRICS_TOKEN: 'metrics-secret-123' } });
    try {
      const at = guarded.url.replace(/\/graphql$/, '/metrics');
      expect((await fetch(at)).status).toBe(401);
      expect((await fetch(at, { headers: { authorization: 'Bearer wrong-secret-1234' } })).status).toBe(401);
      const ok = await fetch(at, { headers: { authorization: 'Bearer metrics-secret-123' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/graphql_operation_duration_seconds/);
    } finally {
      await guarded.stop();
    }
  });

  it('with Redis down the gateway starts, the rate limit still holds (in process) and /readyz answers at once: degraded, no internals', async () => {
    // Port 1 on loopback: nothing listens, every connection is refused at once.
    const down = await bootGateway({ simulator: 'frozen', env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const mine = await newApp(down.admin);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await gql(down.url, mine.testKey, CreateCallDocument, { input: { from: mine.number, to: '+15005550006' } })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const started = Date.now();
      const ready = await fetch(down.url.replace(/\/graphql$/, '/readyz'));
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'degraded', checks: { database: 'ok', eventBus: 'down' } });
    } finally {
      await down.stop();
    }
  });
});

describe('WebSocket operations are counted, timed and logged like HTTP ones', () => {
  it('a subscription, a query and a refused document over WebSocket: metrics with transport="ws" and one log line each', async () => {
    lines.length = 0;
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, 'subscription Live { callStatus { sequence } }', {});
      await listenersRegistered(gw, before + 1);
      const { wsRequest } = await import('./helpers/ws.js');
      expect((await wsRequest(client, 'query Count { calls { totalCount } }')).errors).toBeUndefined();
      await expect(wsRequest(client, '{ calls { nope } }')).rejects.toBeTruthy();
      sub.stop();
    } finally {
      await client.dispose();
    }
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/graphql_operations_total\{operation="callStatus",type="subscription",outcome="ok",transport="ws"\} [1-9]/);
    expect(text).toMatch(/graphql_operations_total\{operation="calls",type="query",outcome="ok",transport="ws"\} [1-9]/);
    expect(text).toMatch(/graphql_operations_total\{operation="other",type="invalid",outcome="error",transport="ws"\} [1-9]/);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{type="query",transport="ws"\} [1-9]/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const entries = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'graphql request' && entry.transport === 'ws');
    expect(entries.map((entry) => entry.operation)).toEqual(expect.arrayContaining(['Live', 'Count']));
    for (const entry of entries) expect(entry).toMatchObject({ appId: app.id, mode: 'test', durationMs: expect.any(Number) });
    expect(entries.find((entry) => entry.operation === 'Count')).toMatchObject({ type: 'query', outcome: 'ok', requestId: expect.any(String) });
    expect(entries.some((entry) => entry.outcome === 'error' && entry.errorCodes?.includes('GRAPHQL_VALIDATION_FAILED'))).toBe(true);
  });
});
