import type { Call, Channel, Mode } from '../domain/call.js';

/**
 * One interface for every channel: PSTN, WebRTC, WhatsApp and the test-mode simulator.
 * A provider places the call and later reports status changes through the lifecycle entry
 * point; it never touches GraphQL or HTTP types.
 */
export interface ChannelProvider {
  /** For logs and errors, e.g. "simulator", "telnyx". */
  readonly name: string;
  /** Starts placing an outbound call that has just been persisted as INITIATED. */
  placeCall(call: Call): Promise<void>;
}

export interface ProviderRegistryOptions {
  /** Serves every call made with a test key, on any channel pair. */
  test?: ChannelProvider;
  /** Live providers by the channel of the leg they dial. */
  live?: Partial<Record<Channel, ChannelProvider>>;
}

/** Looks up the provider for a call; the one place that knows how calls map to providers. */
export class ProviderRegistry {
  constructor(private readonly options: ProviderRegistryOptions) {}

  /** The provider that places a call, or null when none is configured for it. */
  forCall(mode: Mode, _fromChannel: Channel, toChannel: Channel): ChannelProvider | null {
    if (mode === 'test') return this.options.test ?? null;
    return this.options.live?.[toChannel] ?? null;
  }
}
