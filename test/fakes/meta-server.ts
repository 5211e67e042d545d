import { createHmac, randomUUID } from 'node:crypto';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake.js';

/**
 * Speaks the part of Meta's WhatsApp Cloud API Calling the gateway calls itself:
 * POST /v{version}/{phone-number-id}/calls with `{messaging_product: "whatsapp", call_id, action}`
 * and `Authorization: Bearer <access token>`. It signs webhooks as Meta does:
 * `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the app secret>`.
 */
export class FakeMeta extends HttpFake {
  readonly accessToken = `EAAG${randomUUID().replace(/-/g, '')}`;
  readonly appSecret = randomUUID().replace(/-/g, '');
  readonly verifyToken = `verify-${randomUUID().slice(0, 8)}`;
  readonly phoneNumberId = '106540352242922';
  readonly apiVersion = '23.0';

  constructor() {
    super((request) => this.answer(request));
  }

  env(businessNumber: string): Record<string, string> {
    return {
      WHATSAPP_PHONE_NUMBER_ID: this.phoneNumberId,
      WHATSAPP_BUSINESS_NUMBER: businessNumber,
      WHATSAPP_ACCESS_TOKEN: this.accessToken,
      WHATSAPP_APP_SECRET: this.appSecret,
      WHATSAPP_VERIFY_TOKEN: this.verifyToken,
      WHATSAPP_API_VERSION: this.apiVersion,
      WHATSAPP_GRAPH_URL: this.url,
    };
  }

  private answer(request: RecordedRequest): FakeResponse {
    if (request.headers.authorization !== `Bearer ${this.accessToken}`) {
      return { status: 401, body: { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } } };
    }
    if (request.method === 'POST' && request.path === `/v${this.apiVersion}/${this.phoneNumberId}/calls`) {
      if (request.body?.messaging_product !== 'whatsapp' || !request.body?.call_id) {
        return { status: 400, body: { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100 } } };
      }
      return { status: 200, body: { success: true } };
    }
    return { status: 404, body: { error: { message: 'Unknown path', code: 803 } } };
  }

  /** Meta's calling webhook envelope (field "calls"); each call and status carries its `timestamp` (Unix seconds, a string), now unless given. */
  static webhook(value: Record<string, unknown>): string {
    const now = String(Math.floor(Date.now() / 1000));
    const stamp = (items: unknown) => (Array.isArray(items) ? items.map((item) => ({ timestamp: now, ...item })) : items);
    value = { ...value, ...(value.calls ? { calls: stamp(value.calls) } : {}), ...(value.statuses ? { statuses: stamp(value.statuses) } : {}) };
    return JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [{ field: 'calls', value: { messaging_product: 'whatsapp', metadata: { phone_number_id: '106540352242922' }, ...value } }],
        },
      ],
    });
  }

  signature(body: string, secret = this.appSecret): string {
    return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  }

  async send(webhookUrl: string, value: Record<string, unknown>): Promise<number> {
    const body = FakeMeta.webhook(value);
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': this.signature(body) },
      body,
    });
    return response.status;
  }
}
