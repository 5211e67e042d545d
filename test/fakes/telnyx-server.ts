import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake.js';

type Body = Record<string, unknown>;

/** Telnyx's error envelope: `{ errors: [{ code, title, detail }] }`. */
export function telnyxError(status: number, code: string, title: string, detail: string): FakeResponse {
  return { status, body: { errors: [{ code, title, detail }] } };
}

const invalid = (detail: string) => telnyxError(422, '10015', 'Invalid value', detail);
const isBase64 = (value: unknown) => typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0;
const oneOf = (value: unknown, allowed: readonly unknown[]) => allowed.includes(value);

/**
 * What each Call Control action requires of its JSON body, as Telnyx documents it
 * (https://developers.telnyx.com/api/call-control): null when the body is acceptable.
 * `command_id` and `client_state` are optional on every action; client_state must be base64.
 */
const ACTIONS: Record<string, (body: Body) => string | null> = {
  answer: () => null,
  hangup: () => null,
  reject: (b) => (oneOf(b.cause, ['CALL_REJECTED', 'USER_BUSY']) ? null : 'cause must be CALL_REJECTED or USER_BUSY'),
  // "The DID or SIP URI to dial out to."
  transfer: (b) => (typeof b.to === 'string' && /^(\+[1-9]\d{1,14}|sips?:[^@\s]+@[^@\s]+)$/.test(b.to) ? null : 'to must be an E.164 number or a SIP URI'),
  playback_start: (b) =>
    [b.audio_url, b.media_name, b.playback_content].filter((v) => v !== undefined).length !== 1
      ? 'exactly one of audio_url, media_name or playback_content is required'
      : b.loop !== undefined && b.loop !== 'infinity' && !(Number.isInteger(b.loop) && (b.loop as number) >= 1 && (b.loop as number) <= 100)
        ? 'loop must be 1 to 100 or "infinity"'
        : null,
  playback_stop: (b) => (b.stop === undefined || oneOf(b.stop, ['current', 'all']) ? null : 'stop must be current or all'),
  record_start: (b) =>
    !oneOf(b.format, ['mp3', 'wav'])
      ? 'format must be mp3 or wav'
      : !oneOf(b.channels, ['single', 'dual'])
        ? 'channels must be single or dual'
        : b.play_beep !== undefined && typeof b.play_beep !== 'boolean'
          ? 'play_beep must be a boolean'
          : b.max_length !== undefined && !(Number.isInteger(b.max_length) && (b.max_length as number) >= 0 && (b.max_length as number) <= 14_400)
            ? 'max_length must be 0 to 14400'
            : b.timeout_secs !== undefined && !(Number.isInteger(b.timeout_secs) && (b.timeout_secs as number) >= 0 && (b.timeout_secs as number) <= 14_400)
              ? 'timeout_secs must be 0 to 14400'
              : null,
  speak: (b) =>
    typeof b.payload !== 'string' || b.payload.length === 0 || b.payload.length > 3_000
      ? 'payload is required (at most 3000 characters)'
      : typeof b.voice !== 'string' || b.voice.length === 0
        ? 'voice is required'
        : null,
  record_stop: () => null,
  send_dtmf: (b) =>
    typeof b.digits !== 'string' || !/^[0-9A-D*#wW]+$/.test(b.digits)
      ? 'digits must be 0-9, A-D, *, #, w or W'
      : b.duration_millis !== undefined &&
          !(Number.isInteger(b.duration_millis) && (b.duration_millis as number) >= 100 && (b.duration_millis as number) <= 500)
        ? 'duration_millis must be 100 to 500'
        : null,
};

/**
 * Speaks the part of Telnyx's Call Control v2 API the gateway uses: POST /v2/calls (dial) and
 * POST /v2/calls/{call_control_id}/actions/{action}, with `Authorization: Bearer <API key>` and
 * JSON bodies checked against the documented parameters, answering as Telnyx does (Telnyx-shaped
 * data and errors). It knows which legs are alive: an action on a leg that was never dialed or
 * announced, or that was hung up or rejected, is refused as Telnyx refuses it (422, 90018).
 *
 * It signs callbacks as Telnyx does: Ed25519 over `<telnyx-timestamp>|<body>`, base64 in
 * `telnyx-signature-ed25519`, with a real key pair whose public key (base64 of the raw 32 bytes,
 * as the portal shows it and the SDK expects it) the gateway is configured with.
 */
export class FakeTelnyx extends HttpFake {
  readonly apiKey = `KEY${randomUUID().replace(/-/g, '')}`;
  readonly connectionId = '1494404757140276705';
  private readonly privateKey: KeyObject;
  readonly publicKeyBase64: string;
  /** call_control_ids of the legs Telnyx would accept commands for. */
  readonly alive = new Set<string>();
  /** Saved recordings the recordings API lists (a test adds them with the recording.saved webhook it sends). */
  readonly recordings: { id: string; call_control_id: string; recording_started_at: string; format: 'mp3' | 'wav' }[] = [];
  /** Presigned links handed out so far: each GET of the recordings API signs anew. */
  private signedLinks = 0;
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
      return telnyxError(401, '10009', 'Authentication failed', 'The API key is not valid.');
    }
    if (request.method === 'GET' && request.path.startsWith('/v2/recordings')) return this.listRecordings(request.path);
    if (request.method !== 'POST') return telnyxError(404, '10005', 'Resource not found', `No route ${request.method} ${request.path}`);
    if (!String(request.headers['content-type']).startsWith('application/json')) return telnyxError(415, '10006', 'Unsupported media type', 'Send JSON');
    const body = (request.body ?? {}) as Body;
    if (typeof body !== 'object' || Array.isArray(body)) return invalid('The body must be a JSON object.');
    if (body.client_state !== undefined && !isBase64(body.client_state)) return invalid('client_state must be a valid Base-64 encoded string.');
    if (request.path === '/v2/calls') return this.dial(body);
    const action = /^\/v2\/calls\/([^/]+)\/actions\/([a-z_]+)$/.exec(request.path);
    if (!action || !ACTIONS[action[2]!]) return telnyxError(404, '10005', 'Resource not found', `No route ${request.method} ${request.path}`);
    const ccid = decodeURIComponent(action[1]!);
    const problem = ACTIONS[action[2]!]!(body);
    if (problem) return invalid(problem);
    if (!this.alive.has(ccid)) return telnyxError(422, '90018', 'Call has already ended', "This call is no longer active and can't receive commands.");
    if (action[2] === 'hangup' || action[2] === 'reject') this.alive.delete(ccid);
    return { status: 200, body: { data: { result: 'ok' } } };
  }

  /**
   * GET /v2/recordings?filter[call_control_id]=…: the call's recordings, each with
   * `download_urls` presigned for 10 minutes, signed anew on every request as Telnyx does.
   */
  private listRecordings(path: string): FakeResponse {
    const url = new URL(path, 'http://telnyx.invalid');
    if (url.pathname !== '/v2/recordings') return telnyxError(404, '10005', 'Resource not found', `No route GET ${url.pathname}`);
    const ccid = url.searchParams.get('filter[call_control_id]');
    const data = this.recordings
      .filter((recording) => ccid === null || recording.call_control_id === ccid)
      .map(({ format, ...recording }) => ({
        ...recording,
        record_type: 'recording',
        source: 'call',
        status: 'completed',
        download_urls: { [format]: `https://s3.telnyx.example/${recording.id}.${format}?X-Amz-Expires=600&X-Amz-Signature=sig${++this.signedLinks}` },
      }));
    return { status: 200, body: { data, meta: { page_number: 1, page_size: 20, total_pages: 1, total_results: data.length } } };
  }

  private dial(body: Body): FakeResponse {
    for (const field of ['connection_id', 'to', 'from'] as const) if (typeof body[field] !== 'string' || !body[field]) return invalid(`${field} is required`);
    if (body.connection_id !== this.connectionId) return telnyxError(422, '10010', 'Invalid connection', 'The connection_id does not belong to this account.');
    const amd = ['premium', 'detect', 'detect_beep', 'detect_words', 'greeting_end', 'disabled'];
    if (body.answering_machine_detection !== undefined && !oneOf(body.answering_machine_detection, amd))
      return invalid('answering_machine_detection is not valid');
    const id = `v3:${randomUUID()}-${++this.calls}`;
    this.alive.add(id);
    return {
      status: 200,
      body: {
        data: {
          call_control_id: id,
          call_leg_id: randomUUID(),
          call_session_id: randomUUID(),
          is_alive: false,
          record_type: 'call',
          client_state: body.client_state,
        },
      },
    };
  }

  /** Signs a callback as Telnyx does; `timestamp` in seconds (default now). */
  signed(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const signature = sign(null, Buffer.from(`${timestamp}|${body}`), this.privateKey).toString('base64');
    return { 'content-type': 'application/json', 'telnyx-signature-ed25519': signature, 'telnyx-timestamp': String(timestamp) };
  }

  /** A Telnyx webhook envelope. */
  static event(eventType: string, payload: Record<string, unknown>): string {
    return JSON.stringify({
      data: {
        event_type: eventType,
        id: randomUUID(),
        occurred_at: new Date().toISOString(),
        payload: { connection_id: '1494404757140276705', ...payload },
        record_type: 'event',
      },
      meta: { attempt: 1, delivered_to: 'http://gateway/webhooks/telnyx' },
    });
  }

  /** Sends a signed callback to the gateway; returns the HTTP status. */
  async send(webhookUrl: string, eventType: string, payload: Record<string, unknown>): Promise<number> {
    const body = FakeTelnyx.event(eventType, payload);
    const response = await fetch(webhookUrl, { method: 'POST', headers: this.signed(body), body });
    return response.status;
  }

  /** A call arrives at `to`: the leg becomes alive and Telnyx announces it (call.initiated, incoming). */
  async incoming(webhookUrl: string, from: string, to: string): Promise<{ ccid: string; status: number }> {
    const ccid = `v3:in-${randomUUID()}`;
    this.alive.add(ccid);
    const status = await this.send(webhookUrl, 'call.initiated', { call_control_id: ccid, direction: 'incoming', from, to, state: 'parked' });
    return { ccid, status };
  }
}
