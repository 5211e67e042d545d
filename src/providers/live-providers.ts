import { Channel } from '../domain/call.js';
import type { ProviderCallbacks } from '../domain/call-lifecycle.js';
import type { CallTokenIssuer } from '../domain/call-tokens.js';
import type { Logger } from '../domain/logger.js';
import type { ChannelProvider, ProviderWebhook } from '../domain/channel-provider.js';
import type { ProviderConfig } from '../config/providers.js';
import { TelnyxProvider } from './pstn/telnyx-provider.js';
import type { RoomLeg } from './room-leg.js';
import { LiveKitProvider } from './webrtc/livekit-provider.js';
import { LiveKitTokens } from './webrtc/livekit-tokens.js';
import { LiveKitWebhook } from './webrtc/livekit-webhook.js';
import { SipLeg } from './webrtc/sip-leg.js';
import { SipRoomBridge } from './webrtc/sip-bridge.js';
import { WebRtcLeg } from './webrtc/webrtc-leg.js';
import { WhatsAppLeg } from './whatsapp/whatsapp-leg.js';
import { WhatsAppWebhook } from './whatsapp/whatsapp-webhook.js';

/** The live providers this gateway is configured with, and how a call picks one. */
export interface LiveProviders {
  /**
   * The provider that places an outbound call: PSTN to PSTN stays on Telnyx Call Control;
   * every other pair meets in a LiveKit room, which brings in the called leg on its channel
   * (a WebRTC client, a PSTN number over SIP, a WhatsApp user through the connector).
   * null when the provider the pair needs is not configured.
   */
  route(fromChannel: Channel, toChannel: Channel): ChannelProvider | null;
  readonly all: ChannelProvider[];
  /** Mounted at /webhooks/<path>. */
  readonly webhooks: ProviderWebhook[];
  /** Issues LiveKit join tokens (createCallToken) for live calls; null without LiveKit. */
  readonly tokens: CallTokenIssuer | null;
  /**
   * … for test calls: only a sandbox LiveKit server (LIVEKIT_SANDBOX_*), never the live one, so a
   * test key never reaches a live provider; null without a sandbox.
   */
  readonly testTokens?: CallTokenIssuer | null;
}

/** Builds the configured providers; nothing is contacted until a call is placed. */
export function createLiveProviders(config: ProviderConfig, callbacks: ProviderCallbacks, logger: Logger): LiveProviders {
  const all: ChannelProvider[] = [];
  const webhooks: ProviderWebhook[] = [];
  let pstn: ChannelProvider | null = null;
  let room: LiveKitProvider | null = null;
  let tokens: CallTokenIssuer | null = null;
  if (config.livekit) {
    const { url, apiKey, apiSecret, sipTrunkId } = config.livekit;
    const legs: RoomLeg[] = [new WebRtcLeg()];
    if (sipTrunkId) legs.push(new SipLeg(url, apiKey, apiSecret, sipTrunkId));
    if (config.whatsapp) {
      const whatsapp = new WhatsAppLeg(config.whatsapp, config.livekit, callbacks);
      legs.push(whatsapp);
      webhooks.push(new WhatsAppWebhook(config.whatsapp, whatsapp, callbacks, logger));
    }
    room = new LiveKitProvider(config.livekit, callbacks, legs);
    tokens = new LiveKitTokens(config.livekit);
    all.push(room);
  }
  let telnyx: TelnyxProvider | null = null;
  if (config.telnyx) {
    const { sipInboundHost } = config.livekit ?? {};
    const bridge = room && sipInboundHost ? new SipRoomBridge({ ...config.livekit!, sipInboundHost }, room) : null;
    telnyx = new TelnyxProvider(config.telnyx, config.publicUrl!, callbacks, bridge);
    pstn = telnyx;
    all.unshift(telnyx);
    webhooks.unshift(telnyx.webhook());
  }
  if (config.livekit) {
    // A Telnyx call taken by a browser ends at Telnyx when the browser leaves its room.
    const carrier = telnyx;
    webhooks.push(new LiveKitWebhook(config.livekit.apiKey, config.livekit.apiSecret, callbacks, async (call) => carrier?.hangUpBridged(call, logger)));
  }
  return {
    route(fromChannel, toChannel) {
      if (fromChannel === Channel.PSTN && toChannel === Channel.PSTN) return pstn;
      // Both parties meet in the room: the called party must be reachable on its channel.
      return room?.reaches(toChannel) ? room : null;
    },
    all,
    webhooks,
    tokens,
    testTokens: config.livekitSandbox ? new LiveKitTokens(config.livekitSandbox) : null,
  };
}
