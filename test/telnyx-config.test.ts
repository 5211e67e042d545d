import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';
import { eventually, gql } from './helpers/gateway.js';
import { TelnyxHarness } from './helpers/telnyx.js';
import { FakeTelnyx } from './fakes/telnyx-server.js';
import { HoldCallDocument, SendToVoicemailDocument } from './gql/graphql.js';

describe('Telnyx defaults: TELNYX_HOLD_MUSIC_URL and TELNYX_VOICEMAIL_GREETING_URL set', () => {
  let t: TelnyxHarness;
  beforeAll(async () => {
    t = await TelnyxHarness.start({
      TELNYX_HOLD_MUSIC_URL: 'https://music.example/hold.mp3',
      TELNYX_VOICEMAIL_GREETING_URL: 'https://audio.example/greeting.mp3',
    });
  });
  afterAll(() => t?.stop());

  it('holdCall without musicUrl plays TELNYX_HOLD_MUSIC_URL, looped', async () => {
    const call = await t.answered();
    const hold = (await gql(t.gw.url, t.app.liveKey, HoldCallDocument, { input: { callId: call.id } })).data!.holdCall;
    expect(hold).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { onHold: true } });
    expect(t.action(call.ccid, 'playback_start').at(-1)!.body).toMatchObject({ audio_url: 'https://music.example/hold.mp3', loop: 'infinity' });
  });

  it('sendToVoicemail greets with TELNYX_VOICEMAIL_GREETING_URL played, and records with the default limits (120 s, 5 s of silence)', async () => {
    const call = await t.answered();
    const voicemail = (await gql(t.gw.url, t.app.liveKey, SendToVoicemailDocument, { input: { callId: call.id } })).data!.sendToVoicemail;
    expect(voicemail).toMatchObject({ userErrors: [], call: { status: 'VOICEMAIL' } });
    const played = t.action(call.ccid, 'playback_start').at(-1)!.body as { audio_url: string; client_state: string };
    expect(played.audio_url).toBe('https://audio.example/greeting.mp3');
    expect(t.action(call.ccid, 'speak')).toHaveLength(0);
    await t.telnyx.send(t.hook, 'call.playback.ended', { call_control_id: call.ccid, client_state: played.client_state, status: 'completed' });
    await eventually(() => t.action(call.ccid, 'record_start').length === 1, 10_000, 'the recording');
    expect(t.action(call.ccid, 'record_start')[0]!.body).toMatchObject({ play_beep: true, max_length: 120, timeout_secs: 5 });
  });
});

describe('Telnyx configuration', () => {
  const key = new FakeTelnyx().publicKeyBase64;
  const full = { TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: key, TELNYX_CONNECTION_ID: '1', PUBLIC_URL: 'https://x.test' };

  it('a half-configured Telnyx stops the gateway at start, naming the missing variable', () => {
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', PUBLIC_URL: 'https://x.test' })).toThrow(ConfigError);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_PUBLIC_KEY is missing/);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: key, PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_CONNECTION_ID is missing/);
    expect(() => loadConfig({ TELNYX_VOICEMAIL_GREETING: 'Hello', PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_API_KEY is missing/);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: key, TELNYX_CONNECTION_ID: '1' })).toThrow(/PUBLIC_URL is missing/);
    expect(() => loadConfig({})).not.toThrow();
    expect(() => loadConfig(full)).not.toThrow();
  });

  it.each([
    ['TELNYX_PUBLIC_KEY', 'not-a-key', /TELNYX_PUBLIC_KEY must be the base64 Ed25519 public key/],
    ['TELNYX_VOICEMAIL_MAX_SECONDS', '0', /TELNYX_VOICEMAIL_MAX_SECONDS must be an integer from 1 to 14400/],
    ['TELNYX_VOICEMAIL_SILENCE_SECONDS', 'soon', /TELNYX_VOICEMAIL_SILENCE_SECONDS must be an integer from 0 to 14400/],
    ['TELNYX_VOICEMAIL_GREETING_URL', 'ftp://audio', /TELNYX_VOICEMAIL_GREETING_URL must start with https:\/\/ or http:\/\//],
    ['TELNYX_WEBHOOK_TOLERANCE_SECONDS', '301', /TELNYX_WEBHOOK_TOLERANCE_SECONDS must be an integer from 1 to 300/],
    ['TELNYX_API_BASE_URL', 'ftp://telnyx', /TELNYX_API_BASE_URL must start with https:\/\/ or http:\/\//],
    ['LIVEKIT_SIP_URI', 'sip:user@host/evil', /LIVEKIT_SIP_URI must be LiveKit's SIP address/],
  ])('a malformed %s stops the gateway at start', (name, value, message) => {
    const env = { ...full, LIVEKIT_URL: 'https://lk.test', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's', LIVEKIT_SIP_INBOUND_TRUNK_ID: 'ST_1', [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("LIVEKIT_SIP_URI without LIVEKIT_SIP_INBOUND_TRUNK_ID stops the gateway: the dispatch rule would serve every inbound trunk's callers", () => {
    const env = { ...full, LIVEKIT_URL: 'https://lk.test', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's', LIVEKIT_SIP_URI: 'sip:abc.sip.livekit.cloud' };
    expect(() => loadConfig(env)).toThrow(/LIVEKIT_SIP_INBOUND_TRUNK_ID is missing/);
    expect(() => loadConfig({ ...env, LIVEKIT_SIP_INBOUND_TRUNK_ID: 'ST_1' })).not.toThrow();
  });
});
