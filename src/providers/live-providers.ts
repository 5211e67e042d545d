import { Channel } from '../domain/call.js';
import type { ProviderCallbacks } from '../domain/call-lifecycle.js';
import type { CallTokenIssuer } from '../domain/call-tokens.js';
import type { Logger } from '../server/logger.js';
import type { ChannelProvider, WebhookEndpoint } from './channel-provider.js';
import type { ProviderConfig } from './provider-config.js';
import { TelnyxProvider } from './pstn/telnyx-provider.js';

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
  readonly webhooks: WebhookEndpoint[];
  /** Issues LiveKit join tokens (createCallToken); null without LiveKit. */
  readonly tokens: CallTokenIssuer | null;
  stop(): Promise<void>;
}

/** Builds the configured providers; nothing is contacted until a call is placed. */
export function createLiveProviders(config: ProviderConfig, callbacks: ProviderCallbacks, logger: Logger): LiveProviders {
  const all: ChannelProvider[] = [];
  const webhooks: WebhookEndpoint[] = [];
  let pstn: ChannelProvider | null = null;
  if (config.telnyx) {
    const telnyx = new TelnyxProvider(config.telnyx, config.publicUrl!, callbacks);
    pstn = telnyx;
    all.push(telnyx);
    webhooks.push(telnyx.webhook());
  }
  const room: ChannelProvider | null = null;
  const tokens: CallTokenIssuer | null = null;
  void config;
  void callbacks;
  void logger;
  return {
    route(fromChannel, toChannel) {
      if (fromChannel === Channel.PSTN && toChannel === Channel.PSTN) return pstn;
      return room;
    },
    all,
    webhooks,
    tokens,
    async stop() {},
  };
}
