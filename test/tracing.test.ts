import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, listenersRegistered, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { Receiver } from './helpers/receiver.js';
import { collect, wsClient, wsRequest } from './helpers/ws.js';
import { CreateWebhookEndpointDocument } from './gql/graphql.js';
import { jsonLogger } from '../src/server/logger.js';
import { CLIENT_SPAN, CLIENT_TRACE, OtlpReceiver, SECRET_METADATA, attribute, createCall, httpGet } from './helpers/otlp.js';

/**
 * OpenTelemetry (issue 25, part 1) through the public API, exported to a real OTLP/HTTP receiver
 * on loopback (an in-process server decoding OTLP JSON, and checking protobuf bodies): one trace
 * for a call's whole life under the client's traceparent, webhook requests continuing it, log
 * lines carrying its ids, and no key, token or metadata value in any attribute.
 */
let otlp: OtlpReceiver;
let hooks: Receiver;
let gw: TestGateway;
let app: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  otlp = await new OtlpReceiver().start();
  hooks = await new Receiver().start();
  gw = await bootGateway({
    logger: jsonLogger({ service: 'tracing-test' }, { write: (line) => logLines.push(line) }),
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'calls-gateway-test',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_POLL_MS: '50',
    },
  });
  app = await newApp(gw.admin, 'tracing');
});
afterAll(async () => {
  await gw?.stop();
  await hooks?.stop();
  await otlp?.stop();
});

describe('one trace for a call’s whole life', () => {
  it('createCall with a traceparent: operation, SQL, status changes, fan-out and webhook deliveries under the client’s trace', async () => {
    const endpoint = await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: hooks.url } });
    expect(endpoint.data!.createWebhookEndpoint.userErrors).toEqual([]);
    const client = wsClient(gw.wsUrl, app.testKey);
    const before = gw.gateway.liveSubscriptions;
    const subscription = collect(client, `subscription Live { callStatus { status call { id } } }`, {});
    await listenersRegistered(gw, before + 1);

    const callId = await createCall(gw, app.testKey, app.number, `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
    await subscription.until((items) => items.some((item) => item.status === 'COMPLETED'));
    subscription.stop();
    await client.dispose();
    const forCall = () => hooks.received.filter((request) => request.json?.data?.call?.id === callId);
    await eventually(() => forCall().some((request) => request.json?.event === 'calls.completed'), 15_000, 'the completed webhook').catch((error) => {
      throw new Error(
        `${error}: ${JSON.stringify(hooks.received.map((request) => request.json)).slice(0, 600)} logs: ${logLines
          .filter((line) => line.includes('error'))
          .join('')
          .slice(0, 800)}`,
      );
    });
    const traced = () => otlp.spans.filter((span) => span.traceId === CLIENT_TRACE);
    await eventually(
      () => traced().some((span) => span.name === 'call COMPLETED') && traced().filter((span) => span.name === 'webhook delivery').length >= forCall().length,
      15_000,
      'the spans to be exported',
    ).catch((error) => {
      throw new Error(
        `${error}: ${otlp.spans.length} spans: ${JSON.stringify(otlp.spans.map((span) => [span.name, span.traceId.slice(0, 6), span.parentSpanId])).slice(0, 3000)}`,
      );
    });
    const spans = traced();

    // The operation: a server span, child of the client's span, after the GraphQL conventions.
    const operation = spans.find((span) => span.name === 'mutation CreateCall')!;
    expect(operation).toBeDefined();
    expect(operation.parentSpanId).toBe(CLIENT_SPAN);
    expect(operation.kind).toBe(2); // SERVER
    expect(attribute(operation, 'graphql.operation.type')).toBe('mutation');
    expect(attribute(operation, 'graphql.operation.name')).toBe('CreateCall');
    expect(attribute(operation, 'calls.app_id')).toBe(app.id);
    expect(attribute(operation, 'graphql.document.hash')).toMatch(/^[\w-]{43}$/);
    expect(Number(attribute(operation, 'http.response.status_code'))).toBe(200);

    // Its SQL: client spans under it; the INSERT (one statement, possibly for several requests) linked to it or under it.
    const sql = spans.filter((span) => attribute(span, 'db.system.name') === 'postgresql');
    expect(sql.length).toBeGreaterThan(0);
    const insert = otlp.spans.find(
      (span) => / insert_calls?$/.test(span.name) && (span.parentSpanId === operation.spanId || span.links?.some((link) => link.spanId === operation.spanId)),
    );
    expect(insert).toBeDefined();

    // The call's later life: every status change a child of the operation, so in the same trace.
    const changes = spans.filter((span) => span.name.startsWith('call ') && attribute(span, 'calls.call_id') === callId);
    expect(changes.map((span) => span.name)).toEqual(expect.arrayContaining(['call RINGING', 'call IN_PROGRESS', 'call COMPLETED']));
    for (const change of changes) expect(change.parentSpanId).toBe(operation.spanId);
    const fanout = spans.filter((span) => span.name === 'callStatus fan-out' && attribute(span, 'calls.call_id') === callId);
    expect(fanout.length).toBeGreaterThan(0);

    // Webhook deliveries: spans of the trace, and each request carries it on to the endpoint.
    const deliveries = spans.filter((span) => span.name === 'webhook delivery');
    expect(deliveries.length).toBeGreaterThanOrEqual(forCall().length);
    for (const request of forCall()) {
      const [, traceId, spanId] = request.headers.traceparent!.split('-');
      expect(traceId).toBe(CLIENT_TRACE);
      expect(deliveries.map((span) => span.spanId)).toContain(spanId);
    }

    // The sequencer and the WebSocket operation have spans of their own.
    expect(otlp.spans.some((span) => span.name === 'event-log sequence')).toBe(true);
    const ws = otlp.spans.find((span) => span.name === 'subscription Live')!;
    expect(attribute(ws, 'calls.app_id')).toBe(app.id);

    // Log lines written inside the operation carry its ids.
    const request = logLines.map((line) => JSON.parse(line)).find((line) => line.msg === 'graphql request' && line.operation === 'CreateCall');
    expect(request).toMatchObject({ trace_id: CLIENT_TRACE, span_id: operation.spanId });

    // No attribute of any span holds a key, a token or a metadata value.
    const everything = JSON.stringify(otlp.spans);
    for (const secret of [app.testKey, app.liveKey, SECRET_METADATA, 'Bearer']) expect(everything).not.toContain(secret);
  }, 40_000);

  it('a GET and a WebSocket query are spans too, with their SQL inside them', async () => {
    const trace = '11112222333344445555666677778888';
    const get = await httpGet(`${gw.url}?${new URLSearchParams({ query: 'query ByGet { calls(first: 1) { nodes { id } } }' })}`, {
      authorization: `Bearer ${app.testKey}`,
      'apollo-require-preflight': 'true',
      traceparent: `00-${trace}-${CLIENT_SPAN}-01`,
    });
    expect(get.status).toBe(200);
    const client = wsClient(gw.wsUrl, app.testKey);
    const answer = await wsRequest(client, 'query BySocket { calls(first: 1) { nodes { id } } }');
    expect(answer.errors).toBeUndefined();
    await client.dispose();
    await eventually(
      () => otlp.spans.some((span) => span.name === 'query ByGet') && otlp.spans.some((span) => span.name === 'query BySocket'),
      10_000,
      'the GET and WebSocket spans',
    );
    const byGet = otlp.spans.find((span) => span.name === 'query ByGet')!;
    expect(byGet.traceId).toBe(trace);
    expect(byGet.parentSpanId).toBe(CLIENT_SPAN);
    expect(attribute(byGet, 'http.request.method')).toBe('GET');
    expect(attribute(byGet, 'calls.app_id')).toBe(app.id);
    const bySocket = otlp.spans.find((span) => span.name === 'query BySocket')!;
    for (const operation of [byGet, bySocket]) {
      await eventually(
        () => otlp.spans.some((span) => span.parentSpanId === operation.spanId && attribute(span, 'db.system.name') === 'postgresql'),
        10_000,
        `SQL under ${operation.name}`,
      );
    }
  }, 30_000);
});
