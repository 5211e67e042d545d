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
      expect(text).toMatch(/graphql_operations_total\{operation="CreateCall",type="mutation",outcome="ok"\} 1/);
      expect(text).toMatch(/graphql_operations_total\{operation="CreateCall",type="mutation",outcome="user_error"\} 1/);
      expect(text).toMatch(/graphql_operation_duration_seconds_bucket\{le="[0-9.]+",type="mutation"\}/);
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
    expect(entry).toMatchObject({ level: 'info', service: 'test', appId: app.id, mode: 'test', operation: 'Listing', type: 'query', outcome: 'ok', durationMs: expect.any(Number) });
    expect(lines.join('\n')).not.toContain(app.testKey);
    expect(lines.join('\n')).not.toContain(app.testKey.slice(12));
  });
});

describe('the logger', () => {
  it('blanks keys and secrets wherever a caller puts them', () => {
    const out: string[] = [];
    const logger = jsonLogger({}, { write: (line: string) => void out.push(line) });
    logger.error('oops', { authorization: 'Bearer sk_test_app_secretsecret', headers: { authorization: 'Bearer x' }, endpoint: { secret: 'whsec_abc' }, apiKey: 'KEY123' });
    const entry = JSON.parse(out[0]!);
    expect(entry).toMatchObject({ authorization: '[redacted]', headers: { authorization: '[redacted]' }, endpoint: { secret: '[redacted]' }, apiKey: '[redacted]' });
  });
});
