import { integer, optionalText, parsed, plainText, text, url, variable, type Variable } from './parsers.js';
import type { ValuesOf } from './variables.js';

/**
 * Configuration of the live providers, read from the environment with the rest of Config (each
 * variable declared once in PROVIDERS below). A provider is off when none of its variables is set;
 * when some are set, every required one must be, or the gateway stops at start with a message
 * naming the missing variable.
 */

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

const httpUrl = (fallback?: string) => url(['https:', 'http:'], { fallback, trimSlash: true });
/** LiveKit's server API URL: a client's wss:// (ws://) URL is its https:// (http://) one. */
const livekitUrl = url(['https:', 'http:'], { trimSlash: true, rewrite: (raw) => raw.replace(/^wss:/, 'https:').replace(/^ws:/, 'http:') });
/** Whole seconds from `min` to 14400 (4 h, Call Control's limit). */
const seconds = (fallback: number, min: number) => integer(fallback, min, 14_400);
/** Telnyx shows its webhook key as base64 of the raw 32-byte Ed25519 key: a wrong one would refuse every webhook. */
const ed25519PublicKey = parsed<string | undefined>(undefined, 'unset', (raw) => {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(raw)) throw new Error('must be the base64 Ed25519 public key from the Telnyx portal (44 characters, 32 bytes)');
  return raw;
});
/** `sip:host[:port]` (or just host[:port]) → host[:port]: the domain part of the SIP URIs calls are sent to. */
const sipHost = parsed<string | undefined>(undefined, 'unset', (raw) => {
  const host = raw.replace(/^sips?:/, '');
  if (!/^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(host))
    throw new Error(`must be LiveKit's SIP address, e.g. sip:abc.sip.livekit.cloud (a host, optionally :port), got "${raw.slice(0, 100)}"`);
  return host;
});

export const PROVIDERS = {
  publicUrl: variable(
    'PUBLIC_URL',
    httpUrl(),
    "the gateway's public base URL; providers are told to call `<PUBLIC_URL>/webhooks/<provider>` (required with Telnyx or WhatsApp)",
  ),
  telnyxApiKey: variable('TELNYX_API_KEY', optionalText, 'Telnyx Call Control API key'),
  telnyxPublicKey: variable('TELNYX_PUBLIC_KEY', ed25519PublicKey, "the Telnyx portal's Ed25519 public key (base64): verifies its webhooks"),
  telnyxConnectionId: variable('TELNYX_CONNECTION_ID', optionalText, 'the Call Control application (connection) that places the calls'),
  telnyxBaseUrl: variable('TELNYX_API_BASE_URL', httpUrl('https://api.telnyx.com/v2'), "Telnyx's API base (tests point it at a local fake)"),
  telnyxWebhookToleranceSeconds: variable('TELNYX_WEBHOOK_TOLERANCE_SECONDS', integer(300, 1, 300), 'Telnyx webhooks older or newer than this are refused'),
  telnyxHoldMusicUrl: variable('TELNYX_HOLD_MUSIC_URL', httpUrl(), 'played, looped, to a held party when holdCall gives no musicUrl'),
  telnyxVoicemailGreeting: variable(
    'TELNYX_VOICEMAIL_GREETING',
    plainText('Please leave a message after the tone.', 3_000),
    "sendToVoicemail's spoken greeting",
  ),
  telnyxVoicemailGreetingUrl: variable('TELNYX_VOICEMAIL_GREETING_URL', httpUrl(), 'an audio file played instead of the spoken greeting'),
  telnyxVoicemailMaxSeconds: variable('TELNYX_VOICEMAIL_MAX_SECONDS', seconds(120, 1), 'the longest voicemail message'),
  telnyxVoicemailSilenceSeconds: variable('TELNYX_VOICEMAIL_SILENCE_SECONDS', seconds(5, 0), 'the silence that ends a voicemail message (0: never)'),
  livekitUrl: variable('LIVEKIT_URL', livekitUrl, 'LiveKit server (https:// or wss://)'),
  livekitApiKey: variable('LIVEKIT_API_KEY', optionalText, 'LiveKit API key'),
  livekitApiSecret: variable('LIVEKIT_API_SECRET', optionalText, 'LiveKit API secret'),
  livekitSipTrunkId: variable('LIVEKIT_SIP_TRUNK_ID', optionalText, 'outbound SIP trunk (to Telnyx) for PSTN legs in rooms'),
  livekitRecordingsPath: variable('LIVEKIT_RECORDINGS_PATH', text('recordings/'), 'where egress writes recordings'),
  livekitSipUri: variable(
    'LIVEKIT_SIP_URI',
    sipHost,
    "LiveKit's SIP address (`sip:<project>.sip.livekit.cloud`) where Telnyx sends an inbound call transferred to a WebRTC identity (unset: that transfer is refused)",
  ),
  livekitSipInboundTrunkId: variable(
    'LIVEKIT_SIP_INBOUND_TRUNK_ID',
    optionalText,
    "the inbound trunk the gateway's callee dispatch rule is limited to (required with `LIVEKIT_SIP_URI`, else any inbound trunk's caller who knows a call id could join that call's room)",
  ),
  livekitSandboxUrl: variable('LIVEKIT_SANDBOX_URL', livekitUrl, 'a sandbox LiveKit whose tokens test calls may get (`createCallToken`); never the live one'),
  livekitSandboxApiKey: variable('LIVEKIT_SANDBOX_API_KEY', optionalText, "the sandbox LiveKit's API key"),
  livekitSandboxApiSecret: variable('LIVEKIT_SANDBOX_API_SECRET', optionalText, "the sandbox LiveKit's API secret"),
  whatsappPhoneNumberId: variable('WHATSAPP_PHONE_NUMBER_ID', optionalText, "the business phone number's id in Meta's Cloud API"),
  whatsappBusinessNumber: variable('WHATSAPP_BUSINESS_NUMBER', optionalText, 'the business number itself, E.164'),
  whatsappAccessToken: variable('WHATSAPP_ACCESS_TOKEN', optionalText, 'Cloud API access token'),
  whatsappAppSecret: variable('WHATSAPP_APP_SECRET', optionalText, 'Meta app secret: verifies X-Hub-Signature-256 on webhooks'),
  whatsappVerifyToken: variable('WHATSAPP_VERIFY_TOKEN', optionalText, 'echoed in the hub.challenge handshake when Meta subscribes the webhook'),
  whatsappApiVersion: variable('WHATSAPP_API_VERSION', text('23.0'), 'Graph API version'),
  whatsappGraphUrl: variable('WHATSAPP_GRAPH_URL', httpUrl('https://graph.facebook.com'), 'Graph API base (tests point it at a local fake)'),
} as const satisfies Record<string, Variable<unknown>>;

type ProviderValues = ValuesOf<typeof PROVIDERS>;
type Key = keyof ProviderValues;

/** Each provider's variables: on when any is set, and then every required one must be. */
const GROUPS: { provider: string; required: readonly Key[]; optional: readonly Key[] }[] = [
  {
    provider: 'Telnyx',
    required: ['telnyxApiKey', 'telnyxPublicKey', 'telnyxConnectionId'],
    optional: [
      'telnyxBaseUrl',
      'telnyxWebhookToleranceSeconds',
      'telnyxHoldMusicUrl',
      'telnyxVoicemailGreeting',
      'telnyxVoicemailGreetingUrl',
      'telnyxVoicemailMaxSeconds',
      'telnyxVoicemailSilenceSeconds',
    ],
  },
  {
    provider: 'LiveKit',
    required: ['livekitUrl', 'livekitApiKey', 'livekitApiSecret'],
    optional: ['livekitSipTrunkId', 'livekitRecordingsPath', 'livekitSipUri', 'livekitSipInboundTrunkId'],
  },
  { provider: 'LiveKit sandbox', required: ['livekitSandboxUrl', 'livekitSandboxApiKey', 'livekitSandboxApiSecret'], optional: [] },
  {
    provider: 'WhatsApp',
    required: ['whatsappPhoneNumberId', 'whatsappBusinessNumber', 'whatsappAccessToken', 'whatsappAppSecret', 'whatsappVerifyToken'],
    optional: ['whatsappApiVersion', 'whatsappGraphUrl'],
  },
];

/**
 * The providers' configuration from their variables' values (`isSet` tells which were given):
 * the group and cross-provider rules, each problem a line of `problems`.
 */
export function providerConfig(v: ProviderValues, isSet: (name: string) => boolean, problems: string[]): ProviderConfig {
  const on = new Map<string, boolean>();
  for (const { provider, required, optional } of GROUPS) {
    const set = [...required, ...optional].map((key) => PROVIDERS[key].name).filter(isSet);
    const missing = required.map((key) => PROVIDERS[key].name).find((name) => !isSet(name));
    if (set.length > 0 && missing)
      problems.push(`${provider} is half configured: ${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set but ${missing} is missing`);
    on.set(provider, set.length > 0 && !missing);
  }
  const [telnyx, livekit, sandbox, whatsapp] = ['Telnyx', 'LiveKit', 'LiveKit sandbox', 'WhatsApp'].map((provider) => on.get(provider)!);
  if ((telnyx || whatsapp) && !v.publicUrl)
    problems.push(`PUBLIC_URL is missing: ${telnyx ? 'Telnyx' : 'WhatsApp'} needs the gateway's public https URL for its webhooks`);
  if (whatsapp && !livekit)
    problems.push("WhatsApp is configured but LIVEKIT_URL is missing: WhatsApp calls join their LiveKit room through LiveKit's WhatsApp connector");
  // The gateway's callee dispatch rule puts an INVITE to sip:<call id>@… into that call's room:
  // on every inbound trunk, any trunk's caller who learnt a call id could join the call.
  if (v.livekitSipUri && !v.livekitSipInboundTrunkId)
    problems.push(
      'LIVEKIT_SIP_URI is set but LIVEKIT_SIP_INBOUND_TRUNK_ID is missing: the dispatch rule that brings calls into their rooms must be limited to an inbound trunk of its own (the one Telnyx sends to)',
    );
  return {
    publicUrl: v.publicUrl,
    telnyx: telnyx
      ? {
          apiKey: v.telnyxApiKey!,
          publicKey: v.telnyxPublicKey!,
          connectionId: v.telnyxConnectionId!,
          baseUrl: v.telnyxBaseUrl!,
          webhookToleranceSeconds: v.telnyxWebhookToleranceSeconds,
          holdMusicUrl: v.telnyxHoldMusicUrl,
          voicemail: {
            greeting: v.telnyxVoicemailGreeting,
            greetingUrl: v.telnyxVoicemailGreetingUrl,
            maxSeconds: v.telnyxVoicemailMaxSeconds,
            silenceSeconds: v.telnyxVoicemailSilenceSeconds,
          },
        }
      : undefined,
    livekit: livekit
      ? {
          url: v.livekitUrl!,
          apiKey: v.livekitApiKey!,
          apiSecret: v.livekitApiSecret!,
          sipTrunkId: v.livekitSipTrunkId,
          recordingsPath: v.livekitRecordingsPath,
          sipInboundHost: v.livekitSipUri,
          sipInboundTrunkId: v.livekitSipInboundTrunkId,
        }
      : undefined,
    livekitSandbox: sandbox ? { url: v.livekitSandboxUrl!, apiKey: v.livekitSandboxApiKey!, apiSecret: v.livekitSandboxApiSecret! } : undefined,
    whatsapp: whatsapp
      ? {
          phoneNumberId: v.whatsappPhoneNumberId!,
          businessNumber: v.whatsappBusinessNumber!,
          accessToken: v.whatsappAccessToken!,
          appSecret: v.whatsappAppSecret!,
          verifyToken: v.whatsappVerifyToken!,
          apiVersion: v.whatsappApiVersion,
          graphUrl: v.whatsappGraphUrl!,
        }
      : undefined,
  };
}

/** Whether a live call arriving at a number can be brought to a browser (Telnyx, and LiveKit's SIP service for inbound calls). */
export function canRingWebrtc(config: ProviderConfig): boolean {
  return !!config.telnyx && !!config.livekit?.sipInboundHost;
}
