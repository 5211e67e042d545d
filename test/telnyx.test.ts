import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';
import { bootGateway, commandRowCounts, eventually, gql, listenersRegistered, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { FakeTelnyx } from './fakes/telnyx-server.js';
import {
  AnswerCallDocument,
  CallStateDocument,
  CreateCallDocument,
  HangupCallDocument,
  HoldCallDocument,
  MuteCallDocument,
  RejectCallDocument,
  SendToVoicemailDocument,
  StartRecordingDocument,
  StopRecordingDocument,
  TransferCallDocument,
  UnholdCallDocument,
} from './gql/graphql.js';

// Telnyx is not reachable from here: the provider runs through the official `telnyx` SDK against
// FakeTelnyx, a loopback server speaking Call Control v2, which signs callbacks with a real key.
const PUBLIC_URL = 'https://gateway.example.test';
let telnyx: FakeTelnyx;
let gw: TestGateway;
let app: TestApp;
let webhookUrl: string;

beforeAll(async () => {
  telnyx = await new FakeTelnyx().start();
  gw = await bootGateway({ env: telnyx.env(PUBLIC_URL) });
  app = await newApp(gw.admin);
  webhookUrl = gw.url.replace(/\/graphql$/, '/webhooks/telnyx');
});
afterAll(async () => {
  await gw.stop();
  await telnyx.stop();
});

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const state = async (id: string) => (await gql(gw.url, app.liveKey, CallStateDocument, { id })).data!.call!;
const until = async (id: string, status: string) => {
  let call = await state(id);
  await eventually(async () => (call = await state(id)).status === status, 10_000, `call ${id} to be ${status}`);
  return call;
};

/** Places a live PSTN call; returns our id and Telnyx's call_control_id. */
async function dial(to = '+15551230000'): Promise<{ id: string; ccid: string; clientState: string }> {
  const before = telnyx.to(/^\/v2\/calls$/).length;
  const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to, metadata: { order: 7 } } });
  expect(data!.createCall.userErrors).toEqual([]);
  const id = data!.createCall.call!.id;
  const request = telnyx.to(/^\/v2\/calls$/)[before]!;
  const stored = await gw.gateway.lifecycle.findCall({ callId: id });
  return { id, ccid: stored!.providerCallId!, clientState: request.body.client_state };
}

async function answered(): Promise<{ id: string; ccid: string; clientState: string }> {
  const call = await dial();
  expect(await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: call.ccid, client_state: call.clientState, direction: 'outgoing' })).toBe(200);
  expect(await telnyx.send(webhookUrl, 'call.answered', { call_control_id: call.ccid, client_state: call.clientState })).toBe(200);
  await until(call.id, 'IN_PROGRESS');
  return call;
}

describe('PSTN on Telnyx Call Control (through the telnyx SDK, against a local Telnyx)', () => {
  it('createCall dials through Telnyx with the connection, the numbers, our call id as client_state and the webhook URL', async () => {
    const { id, ccid } = await dial('+15557770001');
    const request = telnyx.to(/^\/v2\/calls$/).at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers.authorization).toBe(`Bearer ${telnyx.apiKey}`);
    expect(request.body).toMatchObject({
      connection_id: telnyx.connectionId,
      from: app.number,
      to: '+15557770001',
      client_state: Buffer.from(id).toString('base64'),
      webhook_url: `${PUBLIC_URL}/webhooks/telnyx`,
      answering_machine_detection: 'detect',
    });
    expect(ccid).toMatch(/^v3:/);
  });

  it('a full call: signed callbacks drive RINGING, IN_PROGRESS and COMPLETED, in `call` and in callStatus', async () => {
    const client = wsClient(gw.wsUrl, app.liveKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus(filter: {toAddress: "+15551230000"}) { sequence status call { id endReason } } }`, {});
      await listenersRegistered(gw, before + 1);
      const { id, ccid, clientState } = await dial();
      for (const [type, payload] of [
        ['call.initiated', { direction: 'outgoing' }],
        ['call.answered', {}],
        ['call.hangup', { hangup_cause: 'normal_clearing', hangup_source: 'callee' }],
      ] as const) {
        expect(await telnyx.send(webhookUrl, type, { call_control_id: ccid, client_state: clientState, ...payload })).toBe(200);
      }
      const events = await sub.until((items) => items.length >= 4);
      sub.stop();
      expect(events.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED']);
      expect(events.every((event) => event.call.id === id)).toBe(true);
      expect(await state(id)).toMatchObject({ status: 'COMPLETED', endReason: 'hangup' });
    } finally {
      await client.dispose();
    }
  });

  it.each([
    ['user_busy', [], 'BUSY', 'busy'],
    ['timeout', ['call.initiated'], 'NO_ANSWER', 'no_answer'],
    ['call_rejected', ['call.initiated'], 'BUSY', 'rejected'],
    ['not_found', [], 'FAILED', 'not_found'],
  ] as const)('hangup_cause %s before answer ends the call %s (%s)', async (cause, first, status, endReason) => {
    const { id, ccid, clientState } = await dial();
    for (const type of first) await telnyx.send(webhookUrl, type, { call_control_id: ccid, client_state: clientState, direction: 'outgoing' });
    await telnyx.send(webhookUrl, 'call.hangup', { call_control_id: ccid, client_state: clientState, hangup_cause: cause });
    expect(await until(id, status)).toMatchObject({ endReason });
  });

  it('answering-machine detection reports VOICEMAIL; the hangup then completes it with endReason "voicemail"', async () => {
    const { id, ccid, clientState } = await dial();
    await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: ccid, client_state: clientState, direction: 'outgoing' });
    await telnyx.send(webhookUrl, 'call.answered', { call_control_id: ccid, client_state: clientState });
    await telnyx.send(webhookUrl, 'call.machine.detection.ended', { call_control_id: ccid, client_state: clientState, result: 'machine' });
    await until(id, 'VOICEMAIL');
    await telnyx.send(webhookUrl, 'call.hangup', { call_control_id: ccid, client_state: clientState, hangup_cause: 'normal_clearing' });
    expect(await until(id, 'COMPLETED')).toMatchObject({ endReason: 'voicemail' });
  });

  it('a duplicated or late callback changes nothing', async () => {
    const { id, ccid, clientState } = await answered();
    await telnyx.send(webhookUrl, 'call.answered', { call_control_id: ccid, client_state: clientState });
    await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: ccid, client_state: clientState, direction: 'outgoing' });
    expect((await state(id)).events.nodes.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS']);
  });

  it('an inbound call (call.initiated, incoming) becomes an INBOUND live call of the number\'s application; answerCall answers it on Telnyx', async () => {
    const ccid = `v3:inbound-${Date.now()}`;
    expect(await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: ccid, direction: 'incoming', from: '+15559990000', to: app.number })).toBe(200);
    // Telnyx retries a webhook it thinks failed: the second delivery finds the same call.
    expect(await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: ccid, direction: 'incoming', from: '+15559990000', to: app.number })).toBe(200);
    const call = await gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid });
    expect(call).toMatchObject({ direction: 'inbound', fromAddress: '+15559990000', toAddress: app.number, mode: 'live' });
    const ringing = await until(call!.id, 'RINGING');
    expect(ringing.direction).toBe('INBOUND');
    const answer = (await gql(gw.url, app.liveKey, AnswerCallDocument, { input: { callId: call!.id } })).data!.answerCall;
    expect(answer).toMatchObject({ userErrors: [], command: { type: 'ANSWER', status: 'APPLIED' }, call: { status: 'IN_PROGRESS' } });
    const request = telnyx.to(new RegExp(`/v2/calls/${esc(ccid)}/actions/answer$`)).at(-1)!;
    expect(request.body).toMatchObject({ client_state: Buffer.from(call!.id).toString('base64'), command_id: answer.command!.id, webhook_url: `${PUBLIC_URL}/webhooks/telnyx` });
  });

  it('rejectCall BUSY on an inbound call rejects it on Telnyx with USER_BUSY', async () => {
    const ccid = `v3:inbound-reject-${Date.now()}`;
    await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: ccid, direction: 'incoming', from: '+15559990001', to: app.number });
    const call = (await gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid }))!;
    await until(call.id, 'RINGING');
    const reject = (await gql(gw.url, app.liveKey, RejectCallDocument, { input: { callId: call.id, reason: 'BUSY' } })).data!.rejectCall;
    expect(reject).toMatchObject({ userErrors: [], call: { status: 'BUSY', endReason: 'busy' } });
    expect(telnyx.to(new RegExp(`${esc(ccid)}/actions/reject$`)).at(-1)!.body).toMatchObject({ cause: 'USER_BUSY' });
  });

  it('an inbound call to a number no application owns is rejected on Telnyx and creates nothing', async () => {
    const ccid = `v3:nobody-${Date.now()}`;
    expect(await telnyx.send(webhookUrl, 'call.initiated', { call_control_id: ccid, direction: 'incoming', from: '+15559990002', to: '+15550000001' })).toBe(200);
    expect(await gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid })).toBeNull();
    expect(telnyx.to(new RegExp(`${esc(ccid)}/actions/reject$`))).toHaveLength(1);
  });

  it('each supported command sends the documented Call Control action and is APPLIED', async () => {
    const { id, ccid } = await answered();
    const action = (name: string) => telnyx.to(new RegExp(`/v2/calls/${esc(ccid)}/actions/${name}$`)).at(-1);
    const hold = (await gql(gw.url, app.liveKey, HoldCallDocument, { input: { callId: id, musicUrl: 'https://example.com/hold.mp3' } })).data!.holdCall;
    expect(hold).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { onHold: true } });
    expect(action('playback_start')!.body).toMatchObject({ audio_url: 'https://example.com/hold.mp3', loop: 'infinity', command_id: hold.command!.id });
    const unhold = (await gql(gw.url, app.liveKey, UnholdCallDocument, { input: { callId: id } })).data!.unholdCall;
    expect(unhold).toMatchObject({ userErrors: [], call: { onHold: false } });
    expect(action('playback_stop')!.body).toMatchObject({ stop: 'all' });
    const record = (await gql(gw.url, app.liveKey, StartRecordingDocument, { input: { callId: id, format: 'MP3' } })).data!.startRecording;
    expect(record).toMatchObject({ userErrors: [], call: { recording: true } });
    expect(action('record_start')!.body).toMatchObject({ format: 'mp3', channels: 'dual' });
    const stop = (await gql(gw.url, app.liveKey, StopRecordingDocument, { input: { callId: id } })).data!.stopRecording;
    expect(stop).toMatchObject({ userErrors: [], call: { recording: false } });
    expect(action('record_stop')).toBeDefined();
    const clientState = Buffer.from(id).toString('base64');
    await telnyx.send(webhookUrl, 'call.recording.saved', {
      call_control_id: ccid,
      client_state: clientState,
      recording_urls: { mp3: 'https://s3.telnyx.example/rec.mp3', wav: null },
      recording_started_at: '2026-11-24T01:00:00.000Z',
      recording_ended_at: '2026-11-24T01:00:42.400Z',
    });
    let call = await state(id);
    await eventually(async () => (call = await state(id)).recordings[0]?.status === 'SAVED', 10_000, 'the recording');
    expect(call.recordings[0]).toMatchObject({ format: 'MP3', url: 'https://s3.telnyx.example/rec.mp3', duration: 42 });
    const transfer = (await gql(gw.url, app.liveKey, TransferCallDocument, { input: { callId: id, to: '+15554443333' } })).data!.transferCall;
    expect(transfer).toMatchObject({ userErrors: [], call: { transferredTo: '+15554443333', transferredToChannel: 'PSTN' } });
    expect(action('transfer')!.body).toMatchObject({ to: '+15554443333', from: app.number });
    const hangup = (await gql(gw.url, app.liveKey, HangupCallDocument, { input: { callId: id } })).data!.hangupCall;
    expect(hangup).toMatchObject({ userErrors: [], call: { status: 'COMPLETED', endReason: 'hangup' } });
    expect(action('hangup')).toBeDefined();
  });

  it.each([
    ['muteCall', MuteCallDocument, {}, /cannot mute/],
    ['sendToVoicemail', SendToVoicemailDocument, {}, /no voicemail/],
    ['startRecording as OGG', StartRecordingDocument, { format: 'OGG' }, /records MP3 or WAV, not OGG/],
    ['transferCall to WebRTC', TransferCallDocument, { to: 'agent-1', toChannel: 'WEBRTC' }, /PSTN numbers only/],
    ['holdCall with no music', HoldCallDocument, {}, /give musicUrl/],
  ] as const)('%s is COMMAND_NOT_ALLOWED with the reason, and nothing is sent to Telnyx', async (_name, document, extra, message) => {
    const { id, ccid } = await answered();
    const sent = telnyx.to(new RegExp(esc(ccid))).length;
    const before = await commandRowCounts(gw.database, id);
    const { data } = await gql(gw.url, app.liveKey, document as typeof HoldCallDocument, { input: { callId: id, ...extra } as { callId: string } });
    const payload = Object.values(data!)[0] as { command: unknown; userErrors: { code: string; message: string }[] };
    expect(payload.command).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', message: expect.stringMatching(message) })]);
    expect(telnyx.to(new RegExp(esc(ccid)))).toHaveLength(sent);
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
  });

  it('Telnyx refusing the dial: PROVIDER_ERROR with Telnyx\'s message, and the call ends FAILED', async () => {
    telnyx.failNext(/^\/v2\/calls$/, { status: 422, body: { errors: [{ code: '10015', title: 'Invalid value', detail: 'The destination number is not routable.' }] } });
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15551239999' } });
    expect(data!.createCall.userErrors).toEqual([{ code: 'PROVIDER_ERROR', field: ['input', 'toChannel'], message: 'telnyx: The destination number is not routable. (HTTP 422)' }]);
    expect(data!.createCall.call).toMatchObject({ status: 'FAILED', endReason: 'provider_error' });
  });

  it('Telnyx refusing a command: PROVIDER_ERROR, the command FAILED with a COMMAND_FAILED event, the call unchanged', async () => {
    const { id } = await answered();
    telnyx.failNext(/actions\/hangup$/, { status: 422, body: { errors: [{ code: '90018', title: 'Call has already ended', detail: 'This call is no longer active and can\'t receive commands.' }] } });
    const { data } = await gql(gw.url, app.liveKey, HangupCallDocument, { input: { callId: id } });
    expect(data!.hangupCall.userErrors[0]).toMatchObject({ code: 'PROVIDER_ERROR', message: expect.stringContaining('no longer active') });
    expect(data!.hangupCall.command).toMatchObject({ status: 'FAILED', error: expect.stringContaining('no longer active') });
    const call = await state(id);
    expect(call.status).toBe('IN_PROGRESS');
    expect(call.events.nodes.at(-1)).toMatchObject({ kind: 'COMMAND_FAILED' });
  });
});

describe('the Telnyx webhook endpoint refuses what Telnyx did not sign', () => {
  it('100 tampered, expired, unsigned or foreign-key callbacks: 401 each, and no state change', async () => {
    const { id, ccid, clientState } = await dial();
    const before = await commandRowCounts(gw.database, id);
    const other = new FakeTelnyx(); // same protocol, another key pair: not Telnyx's signature
    const attempts: (() => Promise<number>)[] = [];
    for (let i = 0; i < 20; i++) {
      const body = FakeTelnyx.event('call.answered', { call_control_id: ccid, client_state: clientState, n: i });
      const headers = telnyx.signed(body);
      // 1. body changed after signing
      attempts.push(() => post(body.replace('call.answered', 'call.hangup'), headers));
      // 2. signed 10 minutes ago (replay)
      attempts.push(() => post(body, telnyx.signed(body, Math.floor(Date.now() / 1000) - 600)));
      // 3. no signature at all
      attempts.push(() => post(body, { 'content-type': 'application/json', 'telnyx-timestamp': headers['telnyx-timestamp']! }));
      // 4. signed by another key
      attempts.push(() => post(body, other.signed(body)));
      // 5. a valid signature with another timestamp header
      attempts.push(() => post(body, { ...headers, 'telnyx-timestamp': String(Number(headers['telnyx-timestamp']) + 1) }));
    }
    const statuses = await Promise.all(attempts.map((attempt) => attempt()));
    expect(statuses).toHaveLength(100);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect((await state(id)).status).toBe('INITIATED');
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
  });

  const post = async (body: string, headers: Record<string, string>) => (await fetch(webhookUrl, { method: 'POST', headers, body })).status;
});

describe('Telnyx configuration', () => {
  it('a half-configured Telnyx stops the gateway at start, naming the missing variable', () => {
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', PUBLIC_URL: 'https://x.test' })).toThrow(ConfigError);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', PUBLIC_URL: 'https://x.test' })).toThrow(/TELNYX_PUBLIC_KEY is missing/);
    expect(() => loadConfig({ TELNYX_API_KEY: 'KEY1', TELNYX_PUBLIC_KEY: 'k', TELNYX_CONNECTION_ID: '1' })).toThrow(/PUBLIC_URL is missing/);
    expect(() => loadConfig({})).not.toThrow();
  });
});
