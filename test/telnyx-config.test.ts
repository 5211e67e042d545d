import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';
import { gql } from './helpers/gateway.js';
import { TelnyxHarness } from './helpers/telnyx.js';
import { FakeTelnyx } from './fakes/telnyx-server.js';
import { HoldCallDocument, SendToVoicemailDocument } from './gql/graphql.js';

describe('Telnyx defaults: TELNYX_HOLD_MUSIC_URL set, no TELNYX_VOICEMAIL_NUMBER', () => {
  let t: TelnyxHarness;
  beforeAll(async () => {
    t = await TelnyxHarness.start({ TELNYX_HOLD_MUSIC_URL: 'https://music.example/hold.mp3' });
  });
  afterAll(() => t?.stop());

  it('holdCall without musicUrl plays TELNYX_HOLD_MUSIC_URL, looped', async () => {
    const call = await t.answered();
    const hold = (await gql(t.gw.url, t.app.liveKey, HoldCallDocument, { input: { callId: call.id } })).data!.holdCall;
    expect(hold).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { onHold: true } });
    expect(t.action(call.ccid, 'playback_start').at(-1)!.body).toMatchObject({ audio_url: 'https://music.example/hold.mp3', loop: 'infinity' });
  });

  it('sendToVoicemail is COMMAND_NOT_ALLOWED with why, and nothing is sent to Telnyx', async () => {
    const inbound = await t.incoming();
    const sent = t.telnyx.requests.length;
    const voicemail = (await gql(t.gw.url, t.app.liveKey, SendToVoicemailDocument, { input: { callId: inbound.id } })).data!.sendToVoicemail;
    expect(voicemail).toMatchObject({ command: null, call: { status: 'RINGING' } });
    expect(voicemail.userErrors).toEqual([
      expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', message: expect.stringMatching(/needs TELNYX_VOICEMAIL_NUMBER/) }),
    ]);
    expect(t.telnyx.requests).toHaveLength(sent);
  });
});

describe('Telnyx configuration', () => {
  const key = new FakeTelnyx().publicKeyBase64;
  const full = { TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: key, TELNYX_CONNECTION_ID: '1', PUBLIC_URL: 'https://x.test' };

  it('a half-configured Telnyx stops the gateway at start, naming the missing variable', () => {
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', PUBLIC_URL: 'https://x.test' })).toThrow(ConfigError);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_PUBLIC_KEY is missing/);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: key, PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_CONNECTION_ID is missing/);
    expect(() => loadConfig({ TELNYX_VOICEMAIL_NUMBER: '+15550009999', PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_API_KEY is missing/);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: key, TELNYX_CONNECTION_ID: '1' })).toThrow(/PUBLIC_URL is missing/);
    expect(() => loadConfig({})).not.toThrow();
    expect(() => loadConfig(full)).not.toThrow();
  });

  it.each([
    ['TELNYX_PUBLIC_KEY', 'not-a-key', /TELNYX_PUBLIC_KEY must be the base64 Ed25519 public key/],
    ['TELNYX_VOICEMAIL_NUMBER', '555-1234', /TELNYX_VOICEMAIL_NUMBER must be a possible E.164 number/],
    ['TELNYX_WEBHOOK_TOLERANCE_SECONDS', '301', /TELNYX_WEBHOOK_TOLERANCE_SECONDS must be an integer from 1 to 300/],
    ['TELNYX_API_BASE_URL', 'ftp://telnyx', /TELNYX_API_BASE_URL must start with https:\/\/ or http:\/\//],
  ])('a malformed %s stops the gateway at start', (name, value, message) => {
    expect(() => loadConfig({ ...full, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...full, [name]: value })).toThrow(message);
  });
});
