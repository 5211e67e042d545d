import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake.js';

/**
 * Speaks the part of Telnyx's Call Control v2 API the gateway uses
 * (https://developers.telnyx.com/api/call-control): POST /v2/calls (dial) and
 * POST /v2/calls/{call_control_id}/actions/{action}, with `Authorization: Bearer <API key>`,
 * answering as Telnyx does. It signs callbacks as Telnyx does: Ed25519 over
 * `<telnyx-timestamp>|<body>`, base64 in `telnyx-signature-ed25519`, with a real key pair whose
 * public key (base64 of the raw 32 bytes, as the portal shows it) the gateway is configured with.
 */
export class FakeTelnyx extends HttpFake {
  readonly apiKey = `KEY${randomUUID().replace(/-/g, '')}`;
  readonly connectionId = '1494404757140276705';
  private readonly privateKey: KeyObject;
  readonly publicKeyBase64: string;
  private calls = 0;

  constructor() {
    super((request) => this.answer(request));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    // The raw key is the last 32 bytes of its SPKI DER encoding.
    this.publicKeyBase64 = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('base64');
  }

  env(publicUrl: string): Record<string, string> {
    return {
      TELNYX_API_KEY: this.apiKey,
      TELNYX_PUBLIC_KEY: this.publicKeyBase64,
      TELNYX_CONNECTION_ID: this.connectionId,
      TELNYX_API_BASE_URL: `${this.url}/v2`,
      PUBLIC_URL: publicUrl,
    };
  }

  private answer(request: RecordedRequest): FakeResponse {
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) {
      return { status: 401, body: { errors: [{ code: '10009', title: 'Authentication failed', detail: 'The API key is not valid.' }] } };
    }
    if (request.method === 'POST' && request.path === '/v2/calls') {
      const id = `v3:${randomUUID()}-${++this.calls}`;
      return {
        status: 200,
        body: { data: { call_control_id: id, call_leg_id: randomUUID(), call_session_id: randomUUID(), is_alive: false, record_type: 'call', client_state: request.body?.client_state } },
      };
    }
    if (request.method === 'POST' && /^\/v2\/calls\/[^/]+\/actions\/[a-z_]+$/.test(request.path)) {
      return { status: 200, body: { data: { result: 'ok' } } };
    }
    return { status: 404, body: { errors: [{ code: '10005', title: 'Resource not found', detail: `No route ${request.method} ${request.path}` }] } };
  }

  /** Signs a callback as Telnyx does; `timestamp` in seconds (default now). */
  signed(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const signature = sign(null, Buffer.from(`${timestamp}|${body}`), this.privateKey).toString('base64');
    return { 'content-type': 'application/json', 'telnyx-signature-ed25519': signature, 'telnyx-timestamp': String(timestamp) };
  }

  /** A Telnyx webhook envelope. */
  static event(eventType: string, payload: Record<string, unknown>): string {
    return JSON.stringify({
      data: { event_type: eventType, id: randomUUID(), occurred_at: new Date().toISOString(), payload, record_type: 'event' },
      meta: { attempt: 1, delivered_to: 'http://gateway/webhooks/telnyx' },
    });
  }

  /** Sends a signed callback to the gateway; returns the HTTP status. */
  async send(webhookUrl: string, eventType: string, payload: Record<string, unknown>): Promise<number> {
    const body = FakeTelnyx.event(eventType, payload);
    const response = await fetch(webhookUrl, { method: 'POST', headers: this.signed(body), body });
    return response.status;
  }
}
