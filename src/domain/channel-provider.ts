import type { Call, CallOptions, Channel, Mode } from './call.js';
import type { CallCommand, CommandArgs, Recording } from './command-rules.js';

/**
 * One interface for every channel provider: Telnyx (PSTN), LiveKit (WebRTC, and the room where
 * cross-channel legs meet), WhatsApp, and the test-mode simulator. A provider places calls and
 * carries out commands; what happens later reaches the gateway through `ProviderCallbacks`
 * (src/domain/call-lifecycle.ts). A provider never touches GraphQL or HTTP framework types.
 */
export interface ChannelProvider {
  /** Stored on the call ("simulator", "telnyx", "livekit"): commands on the call come back here. */
  readonly name: string;
  /**
   * Starts placing an outbound call that has just been persisted as INITIATED. Throws
   * ProviderError when the provider refuses it: the call then ends FAILED.
   */
  placeCall(call: Call): Promise<PlaceCallResult>;
  /**
   * createCall options this provider cannot carry out for a call on these channels, each with
   * why (the call is then refused with COMMAND_NOT_ALLOWED and nothing is stored); absent: it
   * carries out every option.
   */
  optionRefusals?(options: CallOptions, channels: { fromChannel: Channel; toChannel: Channel }): { option: keyof CallOptions; reason: string }[];
  /** Why this provider cannot carry out the command on this call, or null when it can. */
  unsupported(args: CommandArgs, call: Call): string | null;
  /**
   * Sends an accepted command to the provider. Throws ProviderError when the provider refuses
   * it. `confirmed: true` when the provider's answer is the confirmation (its effect is applied
   * at once); otherwise the provider confirms later through ProviderCallbacks.
   */
  execute(call: Call, command: CallCommand): Promise<CommandResult>;
  /**
   * A link to a saved recording's file that works now, for a provider whose links expire (asked
   * each time the file is fetched through the gateway); absent: the stored `url` does not expire.
   * null: the provider has no such file (any more).
   */
  freshRecordingLink?(call: Call, recording: Recording): Promise<string | null>;
}

export interface PlaceCallResult {
  /** The provider's own id for the call (Telnyx call_control_id …), stored to find it from callbacks. */
  providerCallId?: string | null;
}

export interface CommandResult {
  confirmed: boolean;
  /** The provider's id for what the command started (a recording, an egress …). */
  providerRef?: string | null;
}

/** A provider refused or failed a request; `message` is the provider's own, shown to the user. */
export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    message: string,
    /** The provider's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** An HTTP request as a provider's webhook endpoint sees it: the raw body, for signatures. */
export interface WebhookRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | undefined>;
  rawBody: Buffer;
}

export interface WebhookResponse {
  status: number;
  body?: string;
  contentType?: string;
}

/** A provider's inbound webhook endpoint, mounted by the server at `/webhooks/<path>`. */
export interface ProviderWebhook {
  readonly path: string;
  handle(request: WebhookRequest): Promise<WebhookResponse>;
}

export interface ProviderRegistryOptions {
  /** Serves every call made with a test key, on any channel pair. */
  test?: ChannelProvider;
  /**
   * Chooses the live provider of an outbound call by its channel pair (LiveProviders.route in providers/live-providers.ts);
   * null: none is configured for it.
   */
  live?: (fromChannel: Channel, toChannel: Channel) => ChannelProvider | null;
  /** Every live provider, by name: commands go to the provider stored on the call. */
  byName?: ChannelProvider[];
}

/** Looks up the provider for a call; the one place that knows how calls map to providers. */
export class ProviderRegistry {
  private readonly named = new Map<string, ChannelProvider>();

  constructor(private readonly options: ProviderRegistryOptions) {
    for (const provider of [options.test, ...(options.byName ?? [])]) if (provider) this.named.set(provider.name, provider);
  }

  /** The provider that places a call, or null when none is configured for it. */
  forCall(mode: Mode, fromChannel: Channel, toChannel: Channel): ChannelProvider | null {
    if (mode === 'test') return this.options.test ?? null;
    return this.options.live?.(fromChannel, toChannel) ?? null;
  }

  /** The provider that carries a call (the name stored on it). */
  byName(name: string | null): ChannelProvider | null {
    return name ? (this.named.get(name) ?? null) : null;
  }
}
