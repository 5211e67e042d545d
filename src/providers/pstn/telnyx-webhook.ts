import type Telnyx from 'telnyx';
import { CallDirection, CallStatus, Channel, type Call } from '../../domain/call.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { looksLikeCallId } from '../../domain/ids.js';
import type { WebhookEndpoint, WebhookRequest, WebhookResponse } from '../channel-provider.js';

interface TelnyxEvent {
  event_type?: string;
  id?: string;
  occurred_at?: string;
  payload?: {
    call_control_id?: string;
    client_state?: string | null;
    direction?: 'incoming' | 'outgoing';
    from?: string;
    to?: string;
    hangup_cause?: string;
    hangup_source?: string;
    result?: string;
    recording_urls?: { mp3?: string | null; wav?: string | null };
    public_recording_urls?: { mp3?: string | null; wav?: string | null };
    recording_started_at?: string;
    recording_ended_at?: string;
  };
}

type Payload = NonNullable<TelnyxEvent['payload']>;

/**
 * POST /webhooks/telnyx. Every request is verified first, with the SDK's Ed25519 verification
 * (`telnyx-signature-ed25519` over `<telnyx-timestamp>|<raw body>`, Telnyx's public key, 300 s
 * tolerance) plus our own, possibly tighter, TELNYX_WEBHOOK_TOLERANCE_SECONDS. Anything that
 * fails is 401 and changes nothing. Verified events go to the lifecycle, which makes duplicated,
 * late or out-of-order deliveries harmless.
 */
export class TelnyxWebhook implements WebhookEndpoint {
  readonly path = 'telnyx';

  constructor(
    private readonly client: Telnyx,
    private readonly toleranceSeconds: number,
    private readonly callbacks: ProviderCallbacks,
    private readonly provider: { readonly name: string },
  ) {}

  async handle(request: WebhookRequest): Promise<WebhookResponse> {
    if (request.method !== 'POST') return { status: 405, body: 'POST only' };
    const body = request.rawBody.toString('utf8');
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0]! : (value ?? '')]));
    try {
      await this.client.webhooks.unwrap(body, { headers });
    } catch {
      return { status: 401, body: 'invalid signature' };
    }
    const timestamp = Number(headers['telnyx-timestamp']);
    if (Math.abs(Date.now() / 1000 - timestamp) > this.toleranceSeconds) return { status: 401, body: 'stale timestamp' };
    let event: TelnyxEvent;
    try {
      event = (JSON.parse(body) as { data?: TelnyxEvent }).data ?? {};
    } catch {
      return { status: 400, body: 'not JSON' };
    }
    await this.apply(event);
    return { status: 200, body: 'ok' };
  }

  private async apply(event: TelnyxEvent): Promise<void> {
    const payload = event.payload ?? {};
    const occurredAt = event.occurred_at ? new Date(event.occurred_at) : undefined;
    if (event.event_type === 'call.initiated' && payload.direction === 'incoming') return this.inbound(payload);
    const call = await this.find(payload);
    if (!call) return;
    switch (event.event_type) {
      case 'call.initiated':
        // Call Control sends no separate ringing event for a dialed call: call.initiated is
        // the network accepting the call towards the destination, the nearest to RINGING.
        await this.callbacks.apply({ callId: call.id, status: CallStatus.RINGING, occurredAt });
        return;
      case 'call.answered':
        await this.callbacks.apply({ callId: call.id, status: CallStatus.IN_PROGRESS, occurredAt });
        return;
      case 'call.machine.detection.ended':
      case 'call.machine.premium.detection.ended':
        if (payload.result === 'machine') await this.callbacks.apply({ callId: call.id, status: CallStatus.VOICEMAIL, occurredAt });
        return;
      case 'call.hangup': {
        const ended = hangupStatus(call, payload);
        await this.callbacks.apply({ callId: call.id, status: ended.status, endReason: ended.endReason, occurredAt });
        return;
      }
      case 'call.recording.saved': {
        const urls = payload.public_recording_urls ?? payload.recording_urls ?? {};
        const started = Date.parse(payload.recording_started_at ?? '');
        const endedAt = Date.parse(payload.recording_ended_at ?? '');
        await this.callbacks.recordingSaved({
          callId: call.id,
          providerRef: null,
          url: urls.mp3 ?? urls.wav ?? null,
          duration: Number.isFinite(started) && Number.isFinite(endedAt) ? Math.max(0, Math.round((endedAt - started) / 1000)) : null,
        });
        return;
      }
      default:
        // Other events (playback, bridging, …) change nothing the API shows.
        return;
    }
  }

  /** A call arriving at a number: the application owning `to` gets an INBOUND live call, ringing. */
  private async inbound(payload: Payload): Promise<void> {
    if (!payload.call_control_id || !payload.from || !payload.to) return;
    const call = await this.callbacks.inboundCall({
      provider: this.provider.name,
      providerCallId: payload.call_control_id,
      from: payload.from,
      to: payload.to,
      fromChannel: Channel.PSTN,
      toChannel: Channel.PSTN,
      mode: 'live',
    });
    if (call) {
      await this.callbacks.apply({ callId: call.id, status: CallStatus.RINGING });
      return;
    }
    // No application owns the number: refuse the call rather than let it ring out.
    await this.client.calls.actions.reject(payload.call_control_id, { cause: 'CALL_REJECTED' }).catch(() => undefined);
  }

  private async find(payload: Payload): Promise<Call | null> {
    if (payload.client_state) {
      const id = Buffer.from(payload.client_state, 'base64').toString('utf8');
      if (looksLikeCallId(id)) {
        const call = await this.callbacks.findCall({ callId: id });
        if (call && call.provider === this.provider.name) return call;
      }
    }
    return payload.call_control_id ? this.callbacks.findCall({ provider: this.provider.name, providerCallId: payload.call_control_id }) : null;
  }
}

/**
 * call.hangup → the terminal status. An answered call COMPLETES (a voicemail box keeps its
 * "voicemail" reason); otherwise Telnyx's hangup_cause says why it never connected.
 */
export function hangupStatus(call: Call, payload: Payload): { status: CallStatus; endReason: string | null } {
  if (call.status === CallStatus.IN_PROGRESS || call.status === CallStatus.VOICEMAIL) {
    return { status: CallStatus.COMPLETED, endReason: call.status === CallStatus.VOICEMAIL ? null : payload.hangup_cause === 'time_limit' ? 'time_limit' : 'hangup' };
  }
  switch (payload.hangup_cause) {
    case 'user_busy':
      return { status: CallStatus.BUSY, endReason: 'busy' };
    case 'call_rejected':
      return { status: CallStatus.BUSY, endReason: 'rejected' };
    case 'no_answer':
    case 'timeout':
      return { status: CallStatus.NO_ANSWER, endReason: 'no_answer' };
    case 'originator_cancel':
      return { status: CallStatus.CANCELED, endReason: 'hangup' };
    case 'not_found':
      return { status: CallStatus.FAILED, endReason: 'not_found' };
    default:
      // normal_clearing before answer: the caller's side hung up (an inbound caller gave up).
      return payload.hangup_source === 'caller' || call.direction === CallDirection.INBOUND
        ? { status: CallStatus.CANCELED, endReason: 'hangup' }
        : { status: CallStatus.FAILED, endReason: payload.hangup_cause ?? 'failed' };
  }
}
