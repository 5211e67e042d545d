/**
 * Configuration of the live providers, read from the environment with the rest of Config.
 * A provider is off when none of its variables is set; when some are set, every required one
 * must be, or the gateway stops at start with a message naming the missing variable.
 */
export class ProviderConfigError extends Error {}

type Env = Record<string, string | undefined>;

export interface TelnyxConfig {
  apiKey: string;
  /** Telnyx's Ed25519 public key (base64) from the portal: verifies its webhooks. */
  publicKey: string;
  /** The Call Control application (connection) that places the calls. */
  connectionId: string;
  /** API base URL; tests point it at a local server speaking Telnyx's API. */
  baseUrl: string;
  /** Webhooks older or newer than this many seconds are refused (replay protection; the SDK's own bound is 300). */
  webhookToleranceSeconds: number;
  /** Played, looped, to a held party when holdCall gives no musicUrl. */
  holdMusicUrl: string | undefined;
  /** sendToVoicemail on Call Control: the greeting, then a beep, then the caller's message recorded. */
  voicemail: VoicemailConfig;
}

export interface VoicemailConfig {
  /** Spoken (Call Control `speak`) unless greetingUrl is set (TELNYX_VOICEMAIL_GREETING). */
  greeting: string;
  /** An audio file played instead of the spoken greeting (TELNYX_VOICEMAIL_GREETING_URL). */
  greetingUrl: string | undefined;
  /** The longest message, in seconds (TELNYX_VOICEMAIL_MAX_SECONDS; record_start max_length). */
  maxSeconds: number;
  /** The message ends after this much silence (TELNYX_VOICEMAIL_SILENCE_SECONDS; record_start timeout_secs; 0: never). */
  silenceSeconds: number;
}

export interface LiveKitConfig {
  /** https://<project>.livekit.cloud (the server API); the same host serves clients over wss. */
  url: string;
  apiKey: string;
  apiSecret: string;
  /** Outbound SIP trunk (to Telnyx) that dials PSTN legs into rooms; unset: no cross-channel PSTN legs. */
  sipTrunkId: string | undefined;
  /** Where Egress writes recordings (a path or URL prefix the egress service can write). */
  recordingsPath: string;
  /**
   * LiveKit's SIP endpoint for inbound calls (LIVEKIT_SIP_URI, e.g. `sip:abc.sip.livekit.cloud`),
   * host[:port] only: a Telnyx call transferred to a WebRTC identity is sent to
   * `sip:<call id>@<this>` and lands in the call's room. Unset: Telnyx calls cannot be transferred to WebRTC.
   */
  sipInboundHost: string | undefined;
  /** The inbound trunk the gateway's dispatch rule is limited to (LIVEKIT_SIP_INBOUND_TRUNK_ID); required with LIVEKIT_SIP_URI. */
  sipInboundTrunkId: string | undefined;
}

export interface WhatsAppConfig {
  /** The business phone number's id in Meta's Cloud API. */
  phoneNumberId: string;
  /** The business number itself, E.164: calls from it use this channel. */
  businessNumber: string;
  accessToken: string;
  /** Meta app secret: verifies X-Hub-Signature-256 on webhooks. */
  appSecret: string;
  /** Echoed in the hub.challenge handshake when Meta subscribes the webhook. */
  verifyToken: string;
  apiVersion: string;
  /** Graph API base URL; tests point it at a local server speaking Meta's API. */
  graphUrl: string;
}

export interface ProviderConfig {
  /** The gateway's public base URL (https://…); providers send their webhooks to <publicUrl>/webhooks/<provider>. */
  publicUrl: string | undefined;
  telnyx: TelnyxConfig | undefined;
  livekit: LiveKitConfig | undefined;
  /** A sandbox LiveKit server whose join tokens test calls may get (createCallToken with a test key). */
  livekitSandbox: Pick<LiveKitConfig, 'url' | 'apiKey' | 'apiSecret'> | undefined;
  whatsapp: WhatsAppConfig | undefined;
}

/** Reads one group: undefined when none of `names` is set, else every `required` one must be. */
function group<K extends string>(env: Env, provider: string, required: readonly K[], optional: readonly string[] = []): Record<K, string> | undefined {
  const set = [...required, ...optional].filter((name) => env[name] !== undefined && env[name] !== '');
  if (set.length === 0) return undefined;
  for (const name of required) {
    if (env[name] === undefined || env[name] === '') {
      throw new ProviderConfigError(`${provider} is half configured: ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ${name} is missing`);
    }
  }
  return Object.fromEntries(required.map((name) => [name, env[name]!])) as Record<K, string>;
}

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProviderConfigError(`${name} is not a URL: "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ProviderConfigError(`${name} must start with https:// or http://`);
  return raw.replace(/\/+$/, '');
}

function text(name: string, raw: string, max: number): string {
  if (raw.length > max || /[\u0000-\u001f]/.test(raw)) throw new ProviderConfigError(`${name} must be at most ${max} characters with no control characters`);
  return raw;
}

/** Whole seconds from `min` to 14400 (4 h, Call Control's limit); unset: `fallback`. */
function seconds(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > 14_400) throw new ProviderConfigError(`${name} must be an integer from ${min} to 14400, got "${raw}"`);
  return value;
}

/** `sip:host[:port]` (or just host[:port]) → host[:port]: the domain part of the SIP URIs calls are sent to. */
function sipHost(name: string, raw: string): string {
  const host = raw.replace(/^sips?:/, '');
  if (!/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(host)) {
    throw new ProviderConfigError(
      `${name} must be LiveKit's SIP address, e.g. sip:abc.sip.livekit.cloud (a host, optionally :port), got "${raw.slice(0, 100)}"`,
    );
  }
  return host;
}

/** Telnyx shows its webhook key as base64 of the raw 32-byte Ed25519 key: a wrong one would refuse every webhook. */
function ed25519PublicKey(name: string, raw: string): string {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(raw))
    throw new ProviderConfigError(`${name} must be the base64 Ed25519 public key from the Telnyx portal (44 characters, 32 bytes)`);
  return raw;
}

export function readProviderConfig(env: Env): ProviderConfig {
  const publicUrl = env.PUBLIC_URL ? httpUrl('PUBLIC_URL', env.PUBLIC_URL) : undefined;

  const telnyxVars = group(env, 'Telnyx', ['TELNYX_API_KEY', 'TELNYX_PUBLIC_KEY', 'TELNYX_CONNECTION_ID'] as const, [
    'TELNYX_API_BASE_URL',
    'TELNYX_WEBHOOK_TOLERANCE_SECONDS',
    'TELNYX_HOLD_MUSIC_URL',
    'TELNYX_VOICEMAIL_GREETING',
    'TELNYX_VOICEMAIL_GREETING_URL',
    'TELNYX_VOICEMAIL_MAX_SECONDS',
    'TELNYX_VOICEMAIL_SILENCE_SECONDS',
  ]);
  const livekitVars = group(env, 'LiveKit', ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'] as const, [
    'LIVEKIT_SIP_TRUNK_ID',
    'LIVEKIT_RECORDINGS_PATH',
    'LIVEKIT_SIP_URI',
    'LIVEKIT_SIP_INBOUND_TRUNK_ID',
  ]);
  const sandboxVars = group(env, 'LiveKit sandbox', ['LIVEKIT_SANDBOX_URL', 'LIVEKIT_SANDBOX_API_KEY', 'LIVEKIT_SANDBOX_API_SECRET'] as const);
  const whatsappVars = group(
    env,
    'WhatsApp',
    ['WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_BUSINESS_NUMBER', 'WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN'] as const,
    ['WHATSAPP_API_VERSION', 'WHATSAPP_GRAPH_URL'],
  );
  if ((telnyxVars || whatsappVars) && !publicUrl) {
    throw new ProviderConfigError(`PUBLIC_URL is missing: ${telnyxVars ? 'Telnyx' : 'WhatsApp'} needs the gateway's public https URL for its webhooks`);
  }
  if (whatsappVars && !livekitVars) {
    throw new ProviderConfigError(
      "WhatsApp is configured but LIVEKIT_URL is missing: WhatsApp calls join their LiveKit room through LiveKit's WhatsApp connector",
    );
  }
  if (env.LIVEKIT_SIP_URI && !env.LIVEKIT_SIP_INBOUND_TRUNK_ID) {
    // The gateway's callee dispatch rule puts an INVITE to sip:<call id>@… into that call's room:
    // on every inbound trunk, any trunk's caller who learnt a call id could join the call.
    throw new ProviderConfigError(
      'LIVEKIT_SIP_URI is set but LIVEKIT_SIP_INBOUND_TRUNK_ID is missing: the dispatch rule that brings calls into their rooms must be limited to an inbound trunk of its own (the one Telnyx sends to)',
    );
  }
  const tolerance = Number(env.TELNYX_WEBHOOK_TOLERANCE_SECONDS || 300);
  if (!Number.isInteger(tolerance) || tolerance < 1 || tolerance > 300) {
    throw new ProviderConfigError(`TELNYX_WEBHOOK_TOLERANCE_SECONDS must be an integer from 1 to 300, got "${env.TELNYX_WEBHOOK_TOLERANCE_SECONDS}"`);
  }
  return {
    publicUrl,
    telnyx: telnyxVars && {
      apiKey: telnyxVars.TELNYX_API_KEY,
      publicKey: ed25519PublicKey('TELNYX_PUBLIC_KEY', telnyxVars.TELNYX_PUBLIC_KEY),
      connectionId: telnyxVars.TELNYX_CONNECTION_ID,
      baseUrl: httpUrl('TELNYX_API_BASE_URL', env.TELNYX_API_BASE_URL || 'https://api.telnyx.com/v2'),
      webhookToleranceSeconds: tolerance,
      holdMusicUrl: env.TELNYX_HOLD_MUSIC_URL ? httpUrl('TELNYX_HOLD_MUSIC_URL', env.TELNYX_HOLD_MUSIC_URL) : undefined,
      voicemail: {
        greeting: text('TELNYX_VOICEMAIL_GREETING', env.TELNYX_VOICEMAIL_GREETING || 'Please leave a message after the tone.', 3_000),
        greetingUrl: env.TELNYX_VOICEMAIL_GREETING_URL ? httpUrl('TELNYX_VOICEMAIL_GREETING_URL', env.TELNYX_VOICEMAIL_GREETING_URL) : undefined,
        maxSeconds: seconds('TELNYX_VOICEMAIL_MAX_SECONDS', env.TELNYX_VOICEMAIL_MAX_SECONDS, 120, 1),
        silenceSeconds: seconds('TELNYX_VOICEMAIL_SILENCE_SECONDS', env.TELNYX_VOICEMAIL_SILENCE_SECONDS, 5, 0),
      },
    },
    livekit: livekitVars && {
      url: httpUrl('LIVEKIT_URL', livekitVars.LIVEKIT_URL.replace(/^wss:/, 'https:').replace(/^ws:/, 'http:')),
      apiKey: livekitVars.LIVEKIT_API_KEY,
      apiSecret: livekitVars.LIVEKIT_API_SECRET,
      sipTrunkId: env.LIVEKIT_SIP_TRUNK_ID || undefined,
      recordingsPath: env.LIVEKIT_RECORDINGS_PATH || 'recordings/',
      sipInboundHost: env.LIVEKIT_SIP_URI ? sipHost('LIVEKIT_SIP_URI', env.LIVEKIT_SIP_URI) : undefined,
      sipInboundTrunkId: env.LIVEKIT_SIP_INBOUND_TRUNK_ID || undefined,
    },
    livekitSandbox: sandboxVars && {
      url: httpUrl('LIVEKIT_SANDBOX_URL', sandboxVars.LIVEKIT_SANDBOX_URL.replace(/^wss:/, 'https:').replace(/^ws:/, 'http:')),
      apiKey: sandboxVars.LIVEKIT_SANDBOX_API_KEY,
      apiSecret: sandboxVars.LIVEKIT_SANDBOX_API_SECRET,
    },
    whatsapp: whatsappVars && {
      phoneNumberId: whatsappVars.WHATSAPP_PHONE_NUMBER_ID,
      businessNumber: whatsappVars.WHATSAPP_BUSINESS_NUMBER,
      accessToken: whatsappVars.WHATSAPP_ACCESS_TOKEN,
      appSecret: whatsappVars.WHATSAPP_APP_SECRET,
      verifyToken: whatsappVars.WHATSAPP_VERIFY_TOKEN,
      apiVersion: env.WHATSAPP_API_VERSION || '23.0',
      graphUrl: httpUrl('WHATSAPP_GRAPH_URL', env.WHATSAPP_GRAPH_URL || 'https://graph.facebook.com'),
    },
  };
}

/** Whether a live call arriving at a number can be brought to a browser (Telnyx, and LiveKit's SIP service for inbound calls). */
export function canRingWebrtc(config: ProviderConfig): boolean {
  return !!config.telnyx && !!config.livekit?.sipInboundHost;
}
