import { createHmac } from 'node:crypto';
import { sameSecret } from '../../domain/constant-time.js';
import { CallDirection, CallStatus, Channel, EndReason, type Call } from '../../domain/call.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { looksLikeCallId } from '../../domain/ids.js';
import type { Logger } from '../../domain/logger.js';
import type { ProviderWebhook, WebhookRequest, WebhookResponse } from '../../domain/channel-provider.js';
import type { WhatsAppConfig } from '../../config/providers.js';
import type { WhatsAppLeg } from './whatsapp-leg.js';

/** The parts of Meta's Cloud API Calling webhook this endpoint reads (field "calls"). */
/** How old a user-initiated call offer may be: Meta rings the business for at most a minute or so. */
const INBOUND_TOLERANCE_SECONDS = 300;

interface MetaCall {
  id?: string;
  from?: string;
  to?: string;
  event?: 'connect' | 'terminate' | string;
  direction?: 'USER_INITIATED' | 'BUSINESS_INITIATED' | string;
  status?: string;
  session?: { sdp_type?: string; sdp?: string };
  biz_opaque_callback_data?: string;
  /** When Meta saw the event: Unix seconds, as a string. */
  timestamp?: string;
}
interface MetaStatus {
  id?: string;
  type?: string;
  status?: 'RINGING' | 'ACCEPTED' | 'REJECTED' | string;
  biz_opaque_callback_data?: string;
}
interface MetaWebhook {
  entry?: {
    changes?: {
      field?: string;
      /** metadata: the business number the events are about (Meta's phone-number id and its display form). */
      value?: { metadata?: { phone_number_id?: string; display_phone_number?: string }; calls?: MetaCall[]; statuses?: MetaStatus[] };
    }[];
  }[];
}

const ANSWERED: ReadonlySet<CallStatus> = new Set([CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL]);

/**
 * /webhooks/whatsapp. GET is Meta's subscription handshake (hub.mode=subscribe, hub.verify_token
 * must equal WHATSAPP_VERIFY_TOKEN: answer hub.challenge). POST must carry
 * `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`, compared in
 * constant time; anything else is 401 and changes nothing.
 *
 * calls[].event connect: a user's call arriving (USER_INITIATED: an INBOUND call, ringing) or the
 * user accepting ours (BUSINESS_INITIATED: its SDP answer goes to the connector; IN_PROGRESS);
 * terminate: the end. statuses[] (type "call"): RINGING, ACCEPTED (IN_PROGRESS), REJECTED (BUSY).
 */
export class WhatsAppWebhook implements ProviderWebhook {
  readonly path = 'whatsapp';

  constructor(
    private readonly config: WhatsAppConfig,
    private readonly leg: WhatsAppLeg,
    private readonly callbacks: ProviderCallbacks,
    private readonly logger: Logger,
  ) {}

  async handle(request: WebhookRequest): Promise<WebhookResponse> {
    if (request.method === 'GET') {
      const { query } = request;
      const ok =
        query['hub.mode'] === 'subscribe' && typeof query['hub.verify_token'] === 'string' && sameSecret(query['hub.verify_token'], this.config.verifyToken);
      return ok ? { status: 200, body: query['hub.challenge'] ?? '' } : { status: 403, body: 'verify token mismatch' };
    }
    if (request.method !== 'POST') return { status: 405, body: 'GET or POST' };
    const header = request.headers['x-hub-signature-256'];
    const signature = Array.isArray(header) ? header[0] : header;
    const expected = `sha256=${createHmac('sha256', this.config.appSecret).update(request.rawBody).digest('hex')}`;
    if (!signature || !sameSecret(signature, expected)) return { status: 401, body: 'invalid signature' };
    let body: MetaWebhook;
    try {
      body = JSON.parse(request.rawBody.toString('utf8')) as MetaWebhook;
    } catch {
      return { status: 400, body: 'not JSON' };
    }
    for (const entry of body.entry ?? []) {
      for (const change of entry.changes ?? []) {
        if (change.field !== 'calls') continue;
        for (const call of change.value?.calls ?? []) await this.onCall(call, change.value?.metadata?.phone_number_id);
        for (const status of change.value?.statuses ?? []) if (status.type === 'call') await this.onStatus(status);
      }
    }
    return { status: 200, body: 'ok' };
  }

  private async onCall(event: MetaCall, phoneNumberId: string | undefined): Promise<void> {
    if (!event.id) return;
    if (event.event === 'connect' && event.direction === 'USER_INITIATED') return this.inbound(event, phoneNumberId);
    const call = await this.find(event.id, event.biz_opaque_callback_data);
    if (!call) return;
    if (event.event === 'connect' && event.session?.sdp) {
      await this.leg.connect(event.id, event.session.sdp);
      await this.callbacks.apply({ callId: call.id, status: CallStatus.IN_PROGRESS });
    } else if (event.event === 'terminate') {
      const ended = ANSWERED.has(call.status)
        ? { status: CallStatus.COMPLETED, endReason: call.status === CallStatus.VOICEMAIL ? null : EndReason.HANGUP }
        : event.status === 'FAILED'
          ? { status: CallStatus.FAILED, endReason: EndReason.FAILED }
          : call.direction === CallDirection.INBOUND
            ? { status: CallStatus.CANCELED, endReason: EndReason.HANGUP }
            : { status: CallStatus.NO_ANSWER, endReason: EndReason.NO_ANSWER };
      await this.callbacks.apply({ callId: call.id, ...ended });
    }
  }

  private async onStatus(status: MetaStatus): Promise<void> {
    if (!status.id) return;
    const call = await this.find(status.id, status.biz_opaque_callback_data);
    if (!call) return;
    const update =
      status.status === 'RINGING'
        ? { status: CallStatus.RINGING }
        : status.status === 'ACCEPTED'
          ? { status: CallStatus.IN_PROGRESS }
          : status.status === 'REJECTED'
            ? { status: CallStatus.BUSY, endReason: EndReason.REJECTED }
            : null;
    if (update) await this.callbacks.apply({ callId: call.id, ...update });
  }

  /**
   * A WhatsApp user calls the business number: an INBOUND call of the application that owns it.
   * A signed body can be replayed by whoever captured it: a call offer older than
   * INBOUND_TOLERANCE_SECONDS (or with no timestamp) is acknowledged and dropped, since its caller
   * has long given up, and Meta's call id is a key that never expires (lifecycle.inboundCall),
   * so a replay within the tolerance finds the call it made.
   */
  private async inbound(event: MetaCall, phoneNumberId: string | undefined): Promise<void> {
    if (!event.from || !event.session?.sdp) return;
    const age = Date.now() / 1000 - Number(event.timestamp);
    if (!Number.isFinite(age) || age > INBOUND_TOLERANCE_SECONDS || age < -INBOUND_TOLERANCE_SECONDS) {
      this.logger.warn('WhatsApp call offer dropped: its timestamp is missing or outside the tolerance', {
        metaCallId: event.id,
        timestamp: event.timestamp ?? null,
      });
      return;
    }
    // The number called is the one whose WhatsApp id Meta names (the configured business number
    // when Meta names none, or names the configured id).
    const named = phoneNumberId ? await this.callbacks.numberOfWhatsappId(phoneNumberId) : null;
    if (phoneNumberId && !named) {
      this.logger.warn('WhatsApp call to a phone-number id no number carries', { phoneNumberId });
      return;
    }
    const to = named ?? this.config.businessNumber;
    const call = await this.callbacks.inboundCall({
      provider: 'livekit',
      providerCallId: event.id!,
      from: `+${event.from.replace(/^\+/, '')}`,
      to,
      fromChannel: Channel.WHATSAPP,
      toChannel: Channel.WHATSAPP,
      mode: 'live',
    });
    if (!call) {
      this.logger.warn('WhatsApp call to a business number no application owns', { number: to });
      return;
    }
    this.leg.rememberOffer(event.id!, event.session.sdp);
    await this.callbacks.apply({ callId: call.id, status: CallStatus.RINGING });
  }

  private async find(metaCallId: string, opaque: string | undefined): Promise<Call | null> {
    if (opaque && looksLikeCallId(opaque)) {
      const call = await this.callbacks.findCall({ callId: opaque });
      if (call?.provider === 'livekit') return call;
    }
    return this.callbacks.findCall({ provider: 'livekit', providerCallId: metaCallId });
  }
}
