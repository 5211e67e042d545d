import { ConnectorClient, SessionDescription } from 'livekit-server-sdk';
import { CallDirection, Channel, type Call } from '../../domain/call.js';
import { RejectReason } from '../../domain/command-rules.js';
import { ProviderError } from '../../domain/channel-provider.js';
import type { LiveKitConfig, WhatsAppConfig } from '../../config/providers.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import type { RoomLeg } from '../room-leg.js';
import { livekit } from '../webrtc/livekit-errors.js';
import { partyIdentity } from '../webrtc/legs.js';

/**
 * A WhatsApp party joins the call's LiveKit room through LiveKit's WhatsApp connector
 * (ConnectorClient in livekit-server-sdk), which speaks Meta's Cloud API Calling for us and
 * bridges the WhatsApp media into the room. Meta's own webhooks (whatsapp-webhook.ts) carry the
 * SDP answer of a business-initiated call back to the connector, and bring inbound calls.
 *
 * Meta's rejection of an inbound call is a Graph API call (POST /{version}/{phone-number-id}/calls
 * with action "reject"): there is no official Meta Node SDK for calling, so it is one fetch.
 */
export class WhatsAppLeg implements RoomLeg {
  readonly channel = Channel.WHATSAPP;
  private readonly connector: ConnectorClient;
  /**
   * SDP offers of inbound calls still ringing, by Meta's call id: answerCall hands the offer to
   * the connector. Kept in memory: an inbound WhatsApp call rings for under a minute, and a
   * gateway restarted meanwhile cannot answer it (the call then ends NO_ANSWER or times out).
   */
  private readonly offers = new Map<string, string>();

  constructor(
    private readonly config: WhatsAppConfig,
    livekitConfig: LiveKitConfig,
    /** The numbers' WhatsApp ids (phone_number, with WHATSAPP_BUSINESS_NUMBER's as the default). */
    private readonly numbers: Pick<ProviderCallbacks, 'whatsappIdOf'>,
  ) {
    this.connector = new ConnectorClient(livekitConfig.url, livekitConfig.apiKey, livekitConfig.apiSecret);
  }

  /**
   * The business number a leg is on, as Meta's phone-number id: the application's number of the
   * call (its `from` outbound, the number called inbound) when it is a WhatsApp number. A WhatsApp
   * `from` always is (createCall checks it); a PSTN caller's number may not be, and then the
   * gateway's WhatsApp business number (WHATSAPP_PHONE_NUMBER_ID) calls the WhatsApp user.
   */
  private async businessNumberId(call: Call): Promise<string> {
    const ours = call.direction === CallDirection.INBOUND ? call.toAddress : call.fromAddress;
    const id = await this.numbers.whatsappIdOf(ours, call.appId);
    if (id !== null) return id;
    if (call.direction === CallDirection.OUTBOUND && call.fromChannel === Channel.WHATSAPP) {
      throw new ProviderError('whatsapp', `${ours} is no longer a WhatsApp business number of this application`);
    }
    return this.config.phoneNumberId;
  }

  async dial(call: Call): Promise<{ legId: string | null }> {
    const whatsappPhoneNumberId = await this.businessNumberId(call);
    const response = await livekit(() =>
      this.connector.dialWhatsAppCall({
        whatsappPhoneNumberId,
        // Meta addresses WhatsApp users by their number without the "+".
        whatsappToPhoneNumber: call.toAddress.replace(/^\+/, ''),
        whatsappApiKey: this.config.accessToken,
        whatsappCloudApiVersion: this.config.apiVersion,
        whatsappBizOpaqueCallbackData: call.id,
        roomName: call.roomName!,
        participantIdentity: partyIdentity(Channel.WHATSAPP, call.toAddress),
        participantName: call.toAddress,
        ringingTimeout: 45,
      }),
    );
    return { legId: response.whatsappCallId || null };
  }

  async hangup(call: Call): Promise<void> {
    if (!call.providerCallId) return;
    await livekit(() => this.connector.disconnectWhatsAppCall(call.providerCallId!, this.config.accessToken));
  }

  /** Meta's SDP answer for a business-initiated call: the connector completes the media path. */
  async connect(whatsappCallId: string, sdpAnswer: string): Promise<void> {
    await livekit(() => this.connector.connectWhatsAppCall(whatsappCallId, new SessionDescription({ type: 'answer', sdp: sdpAnswer })));
  }

  rememberOffer(whatsappCallId: string, sdpOffer: string): void {
    this.offers.set(whatsappCallId, sdpOffer);
    setTimeout(() => this.offers.delete(whatsappCallId), 10 * 60_000).unref();
  }

  async answer(call: Call): Promise<void> {
    const offer = call.providerCallId ? this.offers.get(call.providerCallId) : undefined;
    if (!call.providerCallId || !offer)
      throw new ProviderError('livekit', 'The WhatsApp call offer is no longer available (the call rang on another gateway process, or it restarted)');
    const whatsappPhoneNumberId = await this.businessNumberId(call);
    await livekit(() =>
      this.connector.acceptWhatsAppCall({
        whatsappPhoneNumberId,
        whatsappApiKey: this.config.accessToken,
        whatsappCloudApiVersion: this.config.apiVersion,
        whatsappCallId: call.providerCallId!,
        whatsappBizOpaqueCallbackData: call.id,
        sdp: new SessionDescription({ type: 'offer', sdp: offer }),
        roomName: call.roomName!,
        participantIdentity: partyIdentity(Channel.WHATSAPP, call.fromAddress),
        participantName: call.fromAddress,
      }),
    );
    this.offers.delete(call.providerCallId);
  }

  async reject(call: Call, _reason: RejectReason): Promise<void> {
    if (!call.providerCallId) throw new ProviderError('whatsapp', 'The call has no WhatsApp call id');
    const url = `${this.config.graphUrl}/v${this.config.apiVersion}/${encodeURIComponent(await this.businessNumberId(call))}/calls`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.config.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messaging_product: 'whatsapp', call_id: call.providerCallId, action: 'reject' }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new ProviderError('whatsapp', `Meta could not be reached: ${(error as Error).message}`);
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
      throw new ProviderError('whatsapp', `${body.error?.message ?? response.statusText} (HTTP ${response.status})`, response.status);
    }
    this.offers.delete(call.providerCallId);
  }
}
