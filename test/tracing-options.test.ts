import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, newApp } from './helpers/gateway.js';
import { CLIENT_SPAN, CLIENT_TRACE, OtlpReceiver, SECRET_METADATA, attribute, createCall } from './helpers/otlp.js';
import { FakeLiveKit } from './fakes/livekit-server.js';
import { FakeMeta } from './fakes/meta-server.js';

/**
 * (See test/tracing.test.ts.) TRACE_CLIENT_CONTEXT=link and the protobuf encoding, each on a
 * gateway of its own: tracing is process-wide, so they run one after the other, in a file (and
 * so a process) of their own.
 *
 * OpenTelemetry (issue 25, part 1) through the public API, exported to a real OTLP/HTTP receiver
 * on loopback (an in-process server decoding OTLP JSON, and checking protobuf bodies): one trace
 * for a call's whole life under the client's traceparent, webhook requests continuing it, log
 * lines carrying its ids, and no key, token or metadata value in any attribute.
 */
let otlp: OtlpReceiver;

beforeAll(async () => {
  otlp = await new OtlpReceiver().start();
});
afterAll(() => otlp?.stop());

describe('a client’s traceparent not trusted, and OTLP protobuf', () => {
  it('TRACE_CLIENT_CONTEXT=link: the operation starts a new trace, linked to the client’s span', async () => {
    const gw = await bootGateway({
      simulator: 'frozen',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', TRACE_CLIENT_CONTEXT: 'link' },
    });
    try {
      const app = await newApp(gw.admin, 'tracing link');
      await createCall(gw, app.testKey, app.number, `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
      await eventually(() => otlp.spans.some((span) => span.name === 'mutation CreateCall'), 10_000, 'the operation span');
      const operation = otlp.spans.find((span) => span.name === 'mutation CreateCall')!;
      expect(operation.traceId).not.toBe(CLIENT_TRACE);
      expect(operation.parentSpanId ?? '').toBe('');
      expect(operation.links).toEqual([expect.objectContaining({ traceId: CLIENT_TRACE, spanId: CLIENT_SPAN })]);
      expect(otlp.spans.some((span) => span.traceId === CLIENT_TRACE)).toBe(false);
    } finally {
      await gw.stop();
    }
  }, 30_000);

  it('OTEL_EXPORTER_OTLP_PROTOCOL unset: spans go as OTLP protobuf, to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', async () => {
    const gw = await bootGateway({ simulator: 'frozen', env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces` } });
    try {
      const app = await newApp(gw.admin, 'tracing protobuf');
      const trace = 'abcdef0123456789abcdef0123456789';
      await createCall(gw, app.testKey, app.number, `00-${trace}-${CLIENT_SPAN}-01`);
      // Protobuf carries ids as raw bytes and names as UTF-8: the client's trace id and the operation's name are in one export.
      const exported = (body: Buffer) => body.includes(Buffer.from(trace, 'hex')) && body.includes(Buffer.from('mutation CreateCall'));
      await eventually(() => otlp.protobufBodies.some(exported), 10_000, 'a protobuf export');
      expect(otlp.protobufBodies.find(exported)!.includes(Buffer.from(SECRET_METADATA))).toBe(false);
    } finally {
      await gw.stop();
    }
  }, 30_000);

  it('a provider’s API calls (their SDKs’ fetch) are client spans of the call’s trace: WhatsApp through LiveKit and Meta, both fakes on loopback', async () => {
    const lk = await new FakeLiveKit().start();
    const meta = await new FakeMeta().start();
    const businessNumber = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const gw = await bootGateway({
      env: {
        ...lk.env(),
        ...meta.env(businessNumber),
        PUBLIC_URL: 'https://gateway.example.test',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
    });
    try {
      const app = await newApp(gw.admin, 'tracing providers');
      await gw.admin.assignNumber(app.id, businessNumber);
      const trace = '99990000888877776666555544443333';
      await createCall(gw, app.liveKey, businessNumber, `00-${trace}-${CLIENT_SPAN}-01`, {
        fromChannel: 'WHATSAPP',
        toChannel: 'WHATSAPP',
        to: '+15557002000',
      });
      const ports = [lk.url, meta.url].map((url) => Number(new URL(url).port));
      const outbound = () => otlp.spans.filter((span) => span.traceId === trace && span.kind === 3 && ports.includes(Number(attribute(span, 'server.port'))));
      await eventually(() => outbound().length > 0, 10_000, 'a provider request span');
      const operation = otlp.spans.find((span) => span.traceId === trace && span.name === 'mutation CreateCall')!;
      expect(operation).toBeDefined();
      expect(outbound().every((span) => attribute(span, 'http.request.method') !== undefined)).toBe(true);
    } finally {
      await gw.stop();
      await lk.stop();
      await meta.stop();
    }
  }, 30_000);
});
