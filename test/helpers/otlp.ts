import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { TestGateway } from './gateway.js';

/** An OTLP/HTTP receiver on loopback for the tracing tests: JSON exports decoded into spans, protobuf ones kept as bytes. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string }[];
}

export class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly protobufBodies: Buffer[] = [];
  private server?: http.Server;
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        if ((req.headers['content-type'] ?? '').includes('json')) {
          const request = JSON.parse(body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
          for (const resource of request.resourceSpans) for (const scope of resource.scopeSpans) this.spans.push(...scope.spans);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          this.protobufBodies.push(body);
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

export const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  return value ? (value.stringValue ?? value.intValue ?? value.boolValue ?? value.arrayValue) : undefined;
};

export const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
export const CLIENT_SPAN = '00f067aa0ba902b7';
export const SECRET_METADATA = 'metadata-value-that-must-not-leak';
const CREATE = `mutation CreateCall($input: CreateCallInput!) { createCall(input: $input) { call { id } userErrors { code } } }`;

/** createCall over node:http with a traceparent, metadata holding SECRET_METADATA; the call's id. */
export async function createCall(gateway: TestGateway, key: string, from: string, traceparent: string, input: Record<string, unknown> = {}): Promise<string> {
  // node:http, not fetch: the gateway runs in this process, and its undici instrumentation would
  // put its own traceparent on a fetch.
  const payload = JSON.stringify({ query: CREATE, variables: { input: { from, to: '+15005550001', metadata: { customerId: SECRET_METADATA }, ...input } } });
  const text = await new Promise<string>((resolve, reject) => {
    const request = http.request(
      gateway.url,
      { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, traceparent } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
  const body = JSON.parse(text) as { data: { createCall: { call: { id: string }; userErrors: unknown[] } } };
  expect(body.data.createCall.userErrors).toEqual([]);
  return body.data.createCall.call.id;
}

/** A GET over node:http (not fetch, which the gateway's undici instrumentation would give its own traceparent): status and body. */
export function httpGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
  });
}
