import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRowCounts, eventually, gql, listenersRegistered, newApp, rawGql } from './helpers/gateway.js';
import { PUBLIC_URL, TelnyxHarness, b64, esc } from './helpers/telnyx.js';
import { collect, wsClient } from './helpers/ws.js';
import { FakeTelnyx, telnyxError } from './fakes/telnyx-server.js';
import {
  AnswerCallDocument,
  CallStateDocument,
  CallWithOptionsDocument,
  CreateCallDocument,
  HangupCallDocument,
  HoldCallDocument,
  ListCallsDocument,
  MuteCallDocument,
  RejectCallDocument,
  SendDtmfDocument,
  SetNumberRoutingDocument,
  SendToVoicemailDocument,
  StartRecordingDocument,
  StopRecordingDocument,
  TransferCallDocument,
  UnholdCallDocument,
} from './gql/graphql.js';

// Telnyx is not reachable from here: the provider runs through the official `telnyx` SDK against
// FakeTelnyx, a loopback server speaking Call Control v2, which signs callbacks with a real key.
let t: TelnyxHarness;

beforeAll(async () => {
  // A tighter webhook age limit than the SDK's own 300 s, and a voicemail number.
  t = await TelnyxHarness.start({
    TELNYX_WEBHOOK_TOLERANCE_SECONDS: '60',
    TELNYX_VOICEMAIL_GREETING: 'Ada cannot take your call. Leave a message after the tone.',
    TELNYX_VOICEMAIL_MAX_SECONDS: '60',
    TELNYX_VOICEMAIL_SILENCE_SECONDS: '4',
  });
});
afterAll(() => t?.stop());

/** GET of a Recording.url against this gateway (the link names PUBLIC_URL, which is not this test's address). */
async function download(url: string, key: string | null): Promise<Response> {
  const path = new URL(url).pathname;
  return fetch(`${new URL(t.gw.url).origin}${path}`, { redirect: 'manual', headers: key ? { authorization: `Bearer ${key}` } : {} });
}

describe('PSTN on Telnyx Call Control (through the telnyx SDK, against a local Telnyx)', () => {
  it('createCall dials through Telnyx: connection, numbers, our call id as client_state, the webhook URL, machine detection', async () => {
    const { id } = await t.dial('+15557770001');
    const request = t.telnyx.to(/^\/v2\/calls$/).at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.headers.authorization).toBe(`Bearer ${t.telnyx.apiKey}`);
    expect(request.body).toMatchObject({
      connection_id: t.telnyx.connectionId,
      from: t.app.number,
      to: '+15557770001',
      client_state: b64(id),
      webhook_url: `${PUBLIC_URL}/webhooks/telnyx`,
      answering_machine_detection: 'detect',
    });
    expect((await t.state(id)).status).toBe('INITIATED');
  });

  it('a full call: signed callbacks drive RINGING, IN_PROGRESS and COMPLETED, in `call` and in callStatus', async () => {
    const client = wsClient(t.gw.wsUrl, t.app.liveKey);
    try {
      const before = t.gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus(filter: {toAddress: "+15551230001"}) { sequence status call { id endReason } } }`, {});
      await listenersRegistered(t.gw, before + 1);
      const call = await t.dial('+15551230001');
      expect(await call.send('call.initiated', { direction: 'outgoing', state: 'bridging' })).toBe(200);
      expect(await call.send('call.answered')).toBe(200);
      expect(await call.send('call.hangup', { hangup_cause: 'normal_clearing', hangup_source: 'callee' })).toBe(200);
      const events = await sub.until((items) => items.length >= 4);
      sub.stop();
      expect(events.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED']);
      expect(events.every((event) => event.call.id === call.id)).toBe(true);
      expect(await t.state(call.id)).toMatchObject({ status: 'COMPLETED', endReason: 'HANGUP' });
    } finally {
      await client.dispose();
    }
  });

  it.each([
    ['user_busy', '486', [], 'BUSY', 'BUSY', 'CALLEE', 486],
    ['timeout', '408', ['call.initiated'], 'NO_ANSWER', 'NO_ANSWER', 'SYSTEM', 408],
    ['no_answer', '480', [], 'NO_ANSWER', 'NO_ANSWER', 'SYSTEM', 480],
    ['call_rejected', '603', ['call.initiated'], 'BUSY', 'REJECTED', 'CALLEE', 603],
    ['not_found', '404', [], 'FAILED', 'NOT_FOUND', 'CALLEE', 404],
    ['originator_cancel', 'unspecified', ['call.initiated'], 'CANCELED', 'HANGUP', 'CALLER', null],
    ['unspecified', 'unspecified', [], 'FAILED', 'FAILED', 'CALLEE', null],
  ] as const)(
    'hangup_cause %s (SIP %s) before answer ends the call %s (%s, hangupSource %s, sipCode %s)',
    async (cause, sip, first, status, endReason, hangupSource, sipCode) => {
      const call = await t.dial();
      for (const type of first) await call.send(type, { direction: 'outgoing' });
      await call.send('call.hangup', { hangup_cause: cause, hangup_source: 'callee', sip_hangup_cause: sip });
      expect(await t.until(call.id, status)).toMatchObject({ endReason, hangupSource, sipCode });
    },
  );

  it('after answer: hangup_source says who hung up; time_limit is the SYSTEM ending it (endReason time_limit); a hangupCall is the API', async () => {
    const byCaller = await t.answered();
    await byCaller.send('call.hangup', { hangup_cause: 'normal_clearing', hangup_source: 'caller', sip_hangup_cause: '200' });
    expect(await t.until(byCaller.id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP', hangupSource: 'CALLER', sipCode: 200 });
    const limited = await t.answered();
    await limited.send('call.hangup', { hangup_cause: 'time_limit', hangup_source: 'unknown' });
    expect(await t.until(limited.id, 'COMPLETED')).toMatchObject({ endReason: 'TIME_LIMIT', hangupSource: 'SYSTEM', sipCode: null });
    const byApi = await t.answered();
    const hangup = (await gql(t.gw.url, t.app.liveKey, HangupCallDocument, { input: { callId: byApi.id } })).data!.hangupCall;
    expect(hangup.call).toMatchObject({ status: 'COMPLETED', endReason: 'HANGUP', hangupSource: 'API' });
    // Telnyx's own call.hangup for it afterwards changes nothing.
    await byApi.send('call.hangup', { hangup_cause: 'normal_clearing', hangup_source: 'caller' });
    expect(await t.state(byApi.id)).toMatchObject({ hangupSource: 'API', sipCode: null });
  });

  it.each(['call.machine.detection.ended', 'call.machine.premium.detection.ended'])(
    '%s "machine" is VOICEMAIL; the hangup then completes it ("voicemail")',
    async (type) => {
      const call = await t.answered();
      await call.send(type, { result: 'machine' });
      await t.until(call.id, 'VOICEMAIL');
      await call.send('call.hangup', { hangup_cause: 'normal_clearing' });
      expect(await t.until(call.id, 'COMPLETED')).toMatchObject({ endReason: 'VOICEMAIL' });
    },
  );

  it('a human on the line (machine detection "human") leaves the call IN_PROGRESS', async () => {
    const call = await t.answered();
    expect(await call.send('call.machine.detection.ended', { result: 'human' })).toBe(200);
    expect(await call.send('call.hangup', { hangup_cause: 'normal_clearing' })).toBe(200);
    const ended = await t.until(call.id, 'COMPLETED');
    expect(ended.events.nodes.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED']);
  });

  it('duplicated, late and irrelevant callbacks (and events of other legs) change nothing, and are acknowledged', async () => {
    const call = await t.answered();
    const before = await t.state(call.id);
    expect(await call.send('call.answered')).toBe(200);
    expect(await call.send('call.initiated', { direction: 'outgoing' })).toBe(200);
    for (const type of ['call.bridged', 'call.playback.started', 'call.dtmf.received', 'call.hold', 'conference.created', 'no.such.event']) {
      expect(await call.send(type)).toBe(200);
    }
    // The new leg of a transfer carrying our client_state: its busy target must not end our call.
    expect(await t.telnyx.send(t.hook, 'call.hangup', { call_control_id: 'v3:other-leg', client_state: b64(call.id), hangup_cause: 'user_busy' })).toBe(200);
    expect(await t.telnyx.send(t.hook, 'call.hangup', { call_control_id: 'v3:unknown', hangup_cause: 'normal_clearing' })).toBe(200);
    expect(await t.state(call.id)).toEqual(before);
  });

  it("an inbound call (call.initiated, incoming) is an INBOUND live call of the number's application; answerCall answers it on Telnyx", async () => {
    const { ccid, id } = await t.incoming();
    // Telnyx retries a webhook it thinks failed: the second delivery finds the same call.
    expect(await t.telnyx.send(t.hook, 'call.initiated', { call_control_id: ccid, direction: 'incoming', from: '+15559990000', to: t.app.number })).toBe(200);
    const live = (await gql(t.gw.url, t.app.liveKey, ListCallsDocument, { filter: { direction: 'INBOUND', toAddress: t.app.number } })).data!.calls.nodes;
    expect(live.filter((c) => c.id === id)).toHaveLength(1);
    const test = (await gql(t.gw.url, t.app.testKey, ListCallsDocument, { filter: { direction: 'INBOUND' } })).data!.calls.nodes;
    expect(test.map((c) => c.id)).not.toContain(id);
    expect(await t.state(id)).toMatchObject({ direction: 'INBOUND', status: 'RINGING' });
    const answer = (await gql(t.gw.url, t.app.liveKey, AnswerCallDocument, { input: { callId: id } })).data!.answerCall;
    expect(answer).toMatchObject({ userErrors: [], command: { type: 'ANSWER', status: 'APPLIED' }, call: { status: 'IN_PROGRESS' } });
    expect(t.action(ccid, 'answer').at(-1)!.body).toEqual({
      client_state: b64(id),
      command_id: answer.command!.id,
      webhook_url: `${PUBLIC_URL}/webhooks/telnyx`,
      webhook_url_method: 'POST',
    });
    // Telnyx's own call.answered follows: nothing new.
    await t.telnyx.send(t.hook, 'call.answered', { call_control_id: ccid, client_state: b64(id) });
    expect((await t.state(id)).events.nodes.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS']);
  });

  it.each([
    ['BUSY', 'USER_BUSY', 'BUSY', 'BUSY'],
    ['DECLINED', 'CALL_REJECTED', 'BUSY', 'REJECTED'],
  ] as const)('rejectCall %s rejects the inbound call on Telnyx with %s', async (reason, cause, status, endReason) => {
    const { ccid, id } = await t.incoming('+15559990001');
    const reject = (await gql(t.gw.url, t.app.liveKey, RejectCallDocument, { input: { callId: id, reason } })).data!.rejectCall;
    expect(reject).toMatchObject({ userErrors: [], call: { status, endReason } });
    expect(t.action(ccid, 'reject').at(-1)!.body).toMatchObject({ cause, command_id: reject.command!.id });
  });

  it('an inbound caller who hangs up before answer: CANCELED', async () => {
    const { ccid, id } = await t.incoming('+15559990003');
    await t.telnyx.send(t.hook, 'call.hangup', { call_control_id: ccid, hangup_cause: 'originator_cancel', hangup_source: 'caller' });
    expect(await t.until(id, 'CANCELED')).toMatchObject({ endReason: 'HANGUP' });
  });

  it('an inbound call to a number no application owns is rejected on Telnyx and creates nothing', async () => {
    const { ccid, status } = await t.telnyx.incoming(t.hook, '+15559990002', '+15550000001');
    expect(status).toBe(200);
    expect(await t.gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid })).toBeNull();
    expect(t.action(ccid, 'reject').map((r) => r.body)).toEqual([{ cause: 'CALL_REJECTED' }]);
  });

  it('each supported command sends the documented Call Control action and is APPLIED', async () => {
    const { id, ccid, send } = await t.answered();
    const run = async (document: any, input: Record<string, unknown>): Promise<{ command: { id: string } }> =>
      Object.values((await gql(t.gw.url, t.app.liveKey, document, { input: { callId: id, ...input } })).data as object)[0];
    const sent = (name: string) => t.action(ccid, name).at(-1)!.body;
    const base = (commandId: string) => ({ client_state: b64(id), command_id: commandId });

    const hold = await run(HoldCallDocument, { musicUrl: 'https://example.com/hold.mp3' });
    expect(hold).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { onHold: true } });
    expect(sent('playback_start')).toEqual({ ...base(hold.command.id), audio_url: 'https://example.com/hold.mp3', loop: 'infinity' });
    const unhold = await run(UnholdCallDocument, {});
    expect(unhold).toMatchObject({ userErrors: [], call: { onHold: false } });
    expect(sent('playback_stop')).toEqual({ ...base(unhold.command.id), stop: 'all' });

    const record = await run(StartRecordingDocument, { format: 'WAV' });
    expect(record).toMatchObject({ userErrors: [], call: { recording: true } });
    expect(sent('record_start')).toEqual({ ...base(record.command.id), format: 'wav', channels: 'dual', play_beep: false });
    const stop = await run(StopRecordingDocument, {});
    expect(stop).toMatchObject({ userErrors: [], call: { recording: false } });
    expect(sent('record_stop')).toEqual(base(stop.command.id));
    await send('call.recording.saved', {
      channels: 'dual',
      recording_urls: { mp3: null, wav: 'https://s3.telnyx.example/rec.wav?X-Amz-Expires=600' },
      public_recording_urls: { mp3: null, wav: 'https://recordings.example/rec.wav' },
      recording_started_at: '2026-11-24T01:00:00.000Z',
      recording_ended_at: '2026-11-24T01:00:42.400Z',
    });
    let call = await t.state(id);
    await eventually(async () => (call = await t.state(id)).recordings[0]?.status === 'SAVED', 10_000, 'the recording');
    // The API's link is the gateway's; with a permanent public link, it redirects there.
    expect(call.recordings[0]).toMatchObject({ format: 'WAV', url: `${PUBLIC_URL}/recordings/${call.recordings[0]!.id}`, duration: 42 });
    expect((await download(call.recordings[0]!.url!, t.app.liveKey)).headers.get('location')).toBe('https://recordings.example/rec.wav');

    // No format: the default of a PSTN to PSTN call, one Telnyx records (it was OGG, refused live).
    const again = await run(StartRecordingDocument, {});
    expect(sent('record_start')).toMatchObject({ format: 'mp3', command_id: again.command.id });
    await send('call.recording.error', { reason: 'Internal server error' });
    await eventually(async () => (call = await t.state(id)).recordings[1]?.status === 'FAILED', 10_000, 'the failed recording');

    const transfer = await run(TransferCallDocument, { to: '+15554443333' });
    expect(transfer).toMatchObject({ userErrors: [], call: { transferredTo: '+15554443333', transferredToChannel: 'PSTN' } });
    expect(sent('transfer')).toEqual({ ...base(transfer.command.id), to: '+15554443333', from: t.app.number });
    const hangup = await run(HangupCallDocument, {});
    expect(hangup).toMatchObject({ userErrors: [], call: { status: 'COMPLETED', endReason: 'HANGUP' } });
    expect(sent('hangup')).toEqual(base(hangup.command.id));
  });

  it('sendToVoicemail on a ringing call: answered, greeted, a beep, the message recorded (a VOICEMAIL recording), then hung up: COMPLETED ("voicemail")', async () => {
    const { id, ccid } = await t.incoming('+15559990004');
    const result = (await gql(t.gw.url, t.app.liveKey, SendToVoicemailDocument, { input: { callId: id } })).data!.sendToVoicemail;
    expect(result).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { status: 'VOICEMAIL' } });
    const answer = t.action(ccid, 'answer').at(-1)!.body as { client_state: string; command_id: string };
    expect(answer.command_id).toBe(result.command!.id);
    // Telnyx puts the latest client_state on every later event of the leg.
    const send = (type: string, payload: Record<string, unknown> = {}) =>
      t.telnyx.send(t.hook, type, { call_control_id: ccid, client_state: answer.client_state, ...payload });

    await send('call.answered');
    await eventually(() => t.action(ccid, 'speak').length === 1, 10_000, 'the greeting');
    // A redelivered event repeats the step with the same command_id, which Telnyx ignores.
    await send('call.answered');
    await eventually(() => t.action(ccid, 'speak').length === 2, 10_000, 'the repeated greeting');
    expect(new Set(t.action(ccid, 'speak').map((request) => (request.body as { command_id: string }).command_id))).toEqual(
      new Set([`voicemail-greeting-${id}`]),
    );
    expect(t.action(ccid, 'speak')[0]!.body).toMatchObject({
      payload: 'Ada cannot take your call. Leave a message after the tone.',
      voice: 'female',
      client_state: answer.client_state,
    });
    expect(t.action(ccid, 'record_start')).toHaveLength(0);

    await send('call.speak.ended', { status: 'completed' });
    await eventually(() => t.action(ccid, 'record_start').length === 1, 10_000, 'the recording');
    // Redelivered: no second recording is made (the call already has the message's).
    await send('call.speak.ended', { status: 'completed' });
    expect(t.action(ccid, 'record_start')).toHaveLength(1);
    expect(t.action(ccid, 'record_start')[0]!.body).toEqual({
      client_state: answer.client_state,
      command_id: `voicemail-record-${id}`,
      format: 'mp3',
      channels: 'single',
      play_beep: true,
      max_length: 60,
      timeout_secs: 4,
    });
    let call = await t.state(id);
    expect(call.recordings).toEqual([expect.objectContaining({ kind: 'VOICEMAIL', format: 'MP3', status: 'RECORDING' })]);

    // Silence ended the message: Telnyx saves it; the gateway then hangs up.
    await send('call.recording.saved', {
      channels: 'single',
      recording_urls: { mp3: 'https://s3.telnyx.example/vm.mp3?X-Amz-Expires=600' },
      public_recording_urls: {},
      recording_started_at: '2026-12-03T10:00:00.000Z',
      recording_ended_at: '2026-12-03T10:00:17.000Z',
    });
    await eventually(() => t.action(ccid, 'hangup').length === 1, 10_000, 'the hangup');
    await send('call.hangup', { hangup_cause: 'normal_clearing', hangup_source: 'callee' });
    call = await t.until(id, 'COMPLETED');
    expect(call.endReason).toBe('VOICEMAIL');
    expect(call.recordings).toEqual([expect.objectContaining({ kind: 'VOICEMAIL', format: 'MP3', status: 'SAVED', duration: 17 })]);
  });

  it('sendToVoicemail on a call in progress greets at once (no answer), with the command id', async () => {
    const { id, ccid } = await t.answered();
    const result = (await gql(t.gw.url, t.app.liveKey, SendToVoicemailDocument, { input: { callId: id } })).data!.sendToVoicemail;
    expect(result).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { status: 'VOICEMAIL' } });
    expect(t.action(ccid, 'answer')).toHaveLength(0);
    expect(t.action(ccid, 'speak').at(-1)!.body).toMatchObject({ command_id: result.command!.id, voice: 'female' });
  });

  it('a recording Telnyx keeps privately (public_recording_urls {}, recording_urls for 10 minutes): the API link fetches a fresh one from the recordings API at each download, never the expiring one', async () => {
    const { id, ccid } = await t.answered();
    const send = (type: string, payload: Record<string, unknown>) => t.telnyx.send(t.hook, type, { call_control_id: ccid, ...payload });
    const record = (await gql(t.gw.url, t.app.liveKey, StartRecordingDocument, { input: { callId: id } })).data!.startRecording;
    expect(record.userErrors).toEqual([]);
    await gql(t.gw.url, t.app.liveKey, StopRecordingDocument, { input: { callId: id } });
    const startedAt = '2026-12-03T09:00:00.000Z';
    t.telnyx.recordings.push({ id: 'b2a1c3d4-recording', call_control_id: ccid, recording_started_at: startedAt, format: 'mp3' });
    await send('call.recording.saved', {
      channels: 'dual',
      recording_urls: { mp3: 'https://s3.telnyx.example/webhook-link.mp3?X-Amz-Expires=600', wav: null },
      public_recording_urls: {},
      recording_started_at: startedAt,
      recording_ended_at: '2026-12-03T09:00:05.000Z',
    });
    let call = await t.state(id);
    await eventually(async () => (call = await t.state(id)).recordings[0]?.status === 'SAVED', 10_000, 'the recording');
    const url = call.recordings[0]!.url!;
    expect(url).toBe(`${PUBLIC_URL}/recordings/${call.recordings[0]!.id}`);

    const first = await download(url, t.app.liveKey);
    const second = await download(url, t.app.liveKey);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toMatch(/^https:\/\/s3\.telnyx\.example\/b2a1c3d4-recording\.mp3\?X-Amz-Expires=600&X-Amz-Signature=sig\d+$/);
    expect(second.headers.get('location')).not.toBe(first.headers.get('location'));
    const asked = t.telnyx.to(/^\/v2\/recordings\?/);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(decodeURIComponent(asked.at(-1)!.path)).toContain(`filter[call_control_id]=${ccid}`);
    expect(asked.at(-1)!.headers.authorization).toBe(`Bearer ${t.telnyx.apiKey}`);

    // The key is checked: none is 401, another application's is 404 (as for its calls).
    expect((await download(url, null)).status).toBe(401);
    const other = await newApp(t.gw.admin);
    expect((await download(url, other.liveKey)).status).toBe(404);
    expect((await download(url.replace(/rec_\w+$/, 'rec_nope'), t.app.liveKey)).status).toBe(404);
  });

  it.each([
    ['muteCall', MuteCallDocument, {}, /cannot mute a single call leg/],
    ['startRecording as OGG', StartRecordingDocument, { format: 'OGG' }, /records MP3 or WAV, not OGG/],
    ['startRecording as MP4', StartRecordingDocument, { format: 'MP4' }, /records MP3 or WAV, not MP4/],
    ['startRecording as WEBM', StartRecordingDocument, { format: 'WEBM' }, /records MP3 or WAV, not WEBM/],
    ['transferCall to WebRTC', TransferCallDocument, { to: 'agent-1', toChannel: 'WEBRTC' }, /LIVEKIT_SIP_URI/],
    ['transferCall to WhatsApp', TransferCallDocument, { to: '+15554443333', toChannel: 'WHATSAPP' }, /PSTN numbers and WebRTC identities/],
    ['holdCall with no music', HoldCallDocument, {}, /give musicUrl/],
  ] as const)('%s is COMMAND_NOT_ALLOWED with the reason, and nothing is sent to Telnyx', async (_name, document, extra, message) => {
    const { id, ccid } = await t.answered();
    const sent = t.telnyx.to(new RegExp(esc(ccid))).length;
    const before = await commandRowCounts(t.gw.database, id);
    const { data } = await gql(t.gw.url, t.app.liveKey, document as typeof HoldCallDocument, { input: { callId: id, ...extra } as { callId: string } });
    const payload = Object.values(data!)[0] as { command: unknown; userErrors: { code: string; message: string }[] };
    expect(payload.command).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', message: expect.stringMatching(message) })]);
    expect(t.telnyx.to(new RegExp(esc(ccid)))).toHaveLength(sent);
    expect(await commandRowCounts(t.gw.database, id)).toEqual(before);
  });

  it("Telnyx refusing the dial: PROVIDER_ERROR with Telnyx's message, the call ends FAILED, and a leg Telnyx reports later is hung up", async () => {
    const dials = t.telnyx.to(/^\/v2\/calls$/).length;
    t.telnyx.failNext(/^\/v2\/calls$/, telnyxError(422, '10015', 'Invalid value', 'The destination number is not routable.'));
    const { data } = await gql(t.gw.url, t.app.liveKey, CreateCallDocument, { input: { from: t.app.number, to: '+15551239999' } });
    expect(data!.createCall.userErrors).toEqual([
      { code: 'PROVIDER_ERROR', field: ['input', 'toChannel'], message: 'telnyx: The destination number is not routable. (HTTP 422)' },
    ]);
    const id = data!.createCall.call!.id;
    expect(data!.createCall.call).toMatchObject({ status: 'FAILED', endReason: 'PROVIDER_ERROR' });
    expect(await t.state(id)).toMatchObject({ status: 'FAILED' });
    // Never retried: a dial whose answer was lost might have rung the number already.
    t.telnyx.failNext(/^\/v2\/calls$/, telnyxError(503, '10011', 'Service unavailable', 'Try again later.'));
    const second = (await gql(t.gw.url, t.app.liveKey, CreateCallDocument, { input: { from: t.app.number, to: '+15551239998' } })).data!.createCall;
    expect(second.userErrors[0]).toMatchObject({ code: 'PROVIDER_ERROR', message: 'telnyx: Try again later. (HTTP 503)' });
    expect(t.telnyx.to(/^\/v2\/calls$/)).toHaveLength(dials + 2);
    // Telnyx did place the second one after all: its leg is hung up, the call stays FAILED.
    const orphan = 'v3:orphan-leg';
    t.telnyx.alive.add(orphan);
    expect(await t.telnyx.send(t.hook, 'call.answered', { call_control_id: orphan, client_state: b64(second.call!.id) })).toBe(200);
    expect(t.action(orphan, 'hangup')).toHaveLength(1);
    expect(t.telnyx.alive.has(orphan)).toBe(false);
    expect(await t.state(second.call!.id)).toMatchObject({ status: 'FAILED', endReason: 'PROVIDER_ERROR' });
  });

  it('Telnyx refusing a command: PROVIDER_ERROR, the command FAILED with a COMMAND_FAILED event, the call unchanged', async () => {
    const { id, ccid } = await t.answered();
    t.telnyx.alive.delete(ccid); // the leg ended at Telnyx; its call.hangup is still on its way
    const { data } = await gql(t.gw.url, t.app.liveKey, HangupCallDocument, { input: { callId: id } });
    expect(data!.hangupCall.userErrors[0]).toMatchObject({
      code: 'PROVIDER_ERROR',
      message: "telnyx: This call is no longer active and can't receive commands. (HTTP 422)",
    });
    expect(data!.hangupCall.command).toMatchObject({ status: 'FAILED', error: expect.stringContaining('no longer active') });
    const call = await t.state(id);
    expect(call.status).toBe('IN_PROGRESS');
    expect(call.events.nodes.at(-1)).toMatchObject({ kind: 'COMMAND_FAILED' });
  });
});

describe('the Telnyx webhook endpoint refuses what Telnyx did not sign', () => {
  it('100 tampered, expired, unsigned or foreign-key callbacks: 401 each, and no state change', async () => {
    const { id, ccid } = await t.dial();
    const before = { call: await t.state(id), rows: await commandRowCounts(t.gw.database, id) };
    const other = new FakeTelnyx(); // same protocol, another key pair: not Telnyx's signature
    const now = () => Math.floor(Date.now() / 1000);
    const forge: ((body: string) => [string, Record<string, string>])[] = [
      (body) => [body.replace('call.answered', 'call.hangup'), t.telnyx.signed(body)], // body changed after signing
      (body) => [body, t.telnyx.signed(body, now() - 600)], // replayed: older than the SDK's 300 s
      (body) => [body, t.telnyx.signed(body, now() - 120)], // older than TELNYX_WEBHOOK_TOLERANCE_SECONDS (60)
      (body) => [body, t.telnyx.signed(body, now() + 600)], // from the future
      (body) => [body, { 'content-type': 'application/json', 'telnyx-timestamp': String(now()) }], // unsigned
      (body) => [body, other.signed(body)], // signed with another key
      (body) => {
        const headers = t.telnyx.signed(body);
        return [body, { ...headers, 'telnyx-timestamp': String(Number(headers['telnyx-timestamp']) - 1) }]; // timestamp header changed
      },
    ];
    const statuses = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const [body, headers] = forge[i % forge.length]!(FakeTelnyx.event('call.answered', { call_control_id: ccid, client_state: b64(id), n: i }));
        return (await fetch(t.hook, { method: 'POST', headers, body })).status;
      }),
    );
    expect(statuses).toEqual(Array(100).fill(401));
    expect({ call: await t.state(id), rows: await commandRowCounts(t.gw.database, id) }).toEqual(before);
  });

  it('a signed body that is not JSON is 400; the same callback signed properly then applies', async () => {
    const call = await t.dial();
    const garbage = 'not json';
    expect((await fetch(t.hook, { method: 'POST', headers: t.telnyx.signed(garbage), body: garbage })).status).toBe(400);
    expect(await call.send('call.initiated', { direction: 'outgoing' })).toBe(200);
    await t.until(call.id, 'RINGING');
  });
});

describe('createCall options on Telnyx (dial parameters and webhooks)', () => {
  /** createCall with options; the call's id, Telnyx's call_control_id, and a sender of its callbacks. */
  async function dialWith(options: Record<string, unknown>) {
    const { data } = await gql(t.gw.url, t.app.liveKey, CreateCallDocument, { input: { from: t.app.number, to: '+15551239876', ...options } });
    expect(data!.createCall.userErrors).toEqual([]);
    const id = data!.createCall.call!.id;
    const ccid = (await t.gw.gateway.lifecycle.findCall({ callId: id }))!.providerCallId!;
    const dial = t.telnyx.to(/^\/v2\/calls$/).find((request) => request.body.client_state === b64(id))!.body;
    const send = (type: string, payload: Record<string, unknown> = {}) =>
      t.telnyx.send(t.hook, type, { call_control_id: ccid, client_state: b64(id), ...payload });
    return { id, ccid, dial, send };
  }

  it('ringTimeout, timeLimit, callerName and machineDetection become timeout_secs, time_limit_secs, from_display_name and answering_machine_detection', async () => {
    const { dial } = await dialWith({ ringTimeout: 25, timeLimit: 600, callerName: 'Acme Support', machineDetection: 'DETECT_BEEP' });
    expect(dial).toMatchObject({ timeout_secs: 25, time_limit_secs: 600, from_display_name: 'Acme Support', answering_machine_detection: 'detect_beep' });
    const plain = await dialWith({});
    expect(plain.dial).toMatchObject({ timeout_secs: 60, answering_machine_detection: 'detect' });
    expect(plain.dial).not.toHaveProperty('time_limit_secs');
    expect(plain.dial).not.toHaveProperty('from_display_name');
    expect((await dialWith({ machineDetection: 'OFF' })).dial).toMatchObject({ answering_machine_detection: 'disabled' });
  });

  it('50 concurrent creates (grouped into shared inserts) each keep their own options: answered, stored and dialled', async () => {
    // The grouped INSERT once lacked the options column: every call of a busy turn but one lost them.
    const createWithOptions = `mutation ($input: CreateCallInput!) {
      createCall(input: $input) { call { id options { ringTimeout timeLimit callerName } } userErrors { code } }
    }`;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        rawGql(t.gw.url, t.app.liveKey, {
          query: createWithOptions,
          variables: { input: { from: t.app.number, to: '+15551239876', ringTimeout: 10 + i, timeLimit: 100 + i, callerName: `Agent ${i}` } },
        }),
      ),
    );
    for (const [i, { data, errors }] of results.entries()) {
      expect(errors).toBeUndefined();
      const { call, userErrors } = data.createCall;
      expect(userErrors).toEqual([]);
      const own = { ringTimeout: 10 + i, timeLimit: 100 + i, callerName: `Agent ${i}` };
      expect(call.options).toEqual(own);
      expect((await gql(t.gw.url, t.app.liveKey, CallWithOptionsDocument, { id: call.id })).data!.call!.options).toMatchObject(own);
      await eventually(() => t.telnyx.to(/^\/v2\/calls$/).some((request) => request.body.client_state === b64(call.id)), 10_000, `the dial of ${call.id}`);
      const dial = t.telnyx.to(/^\/v2\/calls$/).find((request) => request.body.client_state === b64(call.id))!.body;
      expect(dial).toMatchObject({ timeout_secs: 10 + i, time_limit_secs: 100 + i, from_display_name: `Agent ${i}` });
    }
  });

  it('DETECT_BEEP: a machine is answeredBy MACHINE at once, and VOICEMAIL only when its greeting ended (the beep)', async () => {
    const call = await dialWith({ machineDetection: 'DETECT_BEEP' });
    await call.send('call.initiated', { direction: 'outgoing' });
    await call.send('call.answered');
    await t.until(call.id, 'IN_PROGRESS');
    expect(await call.send('call.machine.detection.ended', { result: 'machine' })).toBe(200);
    const detected = (await gql(t.gw.url, t.app.liveKey, CallWithOptionsDocument, { id: call.id })).data!.call!;
    expect(detected).toMatchObject({ status: 'IN_PROGRESS', answeredBy: 'MACHINE' });
    expect(await call.send('call.machine.greeting.ended', { result: 'beep_detected' })).toBe(200);
    await t.until(call.id, 'VOICEMAIL');
  });

  it.each([
    ['call.machine.premium.detection.ended', 'human_business', 'HUMAN', 'IN_PROGRESS'],
    ['call.machine.premium.detection.ended', 'fax_detected', 'FAX', 'IN_PROGRESS'],
    ['call.machine.detection.ended', 'not_sure', 'UNKNOWN', 'IN_PROGRESS'],
    ['call.machine.detection.ended', 'machine', 'MACHINE', 'VOICEMAIL'],
  ])('%s %s: answeredBy %s, the call %s', async (type, result, answeredBy, status) => {
    const call = await t.answered();
    expect(await call.send(type, { result })).toBe(200);
    await eventually(
      async () => (await gql(t.gw.url, t.app.liveKey, CallWithOptionsDocument, { id: call.id })).data!.call!.answeredBy === answeredBy,
      10_000,
      'answeredBy',
    );
    expect((await t.state(call.id)).status).toBe(status);
  });

  it('recordFromAnswer: call.answered makes the gateway send record_start in the format asked', async () => {
    const call = await dialWith({ recordFromAnswer: 'WAV' });
    await call.send('call.initiated', { direction: 'outgoing' });
    await call.send('call.answered');
    await eventually(() => t.action(call.ccid, 'record_start').length === 1, 10_000, 'record_start');
    expect(t.action(call.ccid, 'record_start')[0]!.body).toMatchObject({ format: 'wav', channels: 'dual' });
    await eventually(async () => (await t.state(call.id)).recording === true, 10_000, 'the call recording');
  });
});

describe('DTMF on Telnyx', () => {
  it('sendDtmf is send_dtmf (digits, duration_millis, our command_id); call.dtmf.received is a DTMF_RECEIVED event with the digit', async () => {
    const call = await t.answered();
    const sent = (await gql(t.gw.url, t.app.liveKey, SendDtmfDocument, { input: { callId: call.id, digits: '1234#' } })).data!.sendDtmf;
    expect(sent).toMatchObject({ userErrors: [], command: { status: 'APPLIED' } });
    expect(t.action(call.ccid, 'send_dtmf').at(-1)!.body).toEqual({
      client_state: b64(call.id),
      command_id: sent.command!.id,
      digits: '1234#',
      duration_millis: 250,
    });
    expect(await call.send('call.dtmf.received', { digit: '7' })).toBe(200);
    expect(await call.send('call.dtmf.received', { digit: '#' })).toBe(200);
    await eventually(async () => (await t.state(call.id)).events.nodes.filter((event) => event.kind === 'DTMF_RECEIVED').length === 2, 10_000, 'the keys');
    const events = (await t.state(call.id)).events.nodes.filter((event) => event.digits !== null);
    expect(events.map((event) => [event.kind, event.digits])).toEqual([
      ['DTMF_SENT', '1234#'],
      ['DTMF_RECEIVED', '7'],
      ['DTMF_RECEIVED', '#'],
    ]);
  });
});

describe('number routing on Telnyx', () => {
  it('FORWARD: an arriving call is transferred to the forward number at once (TRANSFERRED), and IN_PROGRESS when Telnyx bridges it', async () => {
    const own = await newApp(t.gw.admin);
    const set = (await gql(t.gw.url, own.liveKey, SetNumberRoutingDocument, { input: { number: own.number, routing: 'FORWARD', forwardTo: '+15557778888' } }))
      .data!.setNumberRouting;
    expect(set.userErrors).toEqual([]);
    const { ccid, status } = await t.telnyx.incoming(t.hook, '+15559994444', own.number);
    expect(status).toBe(200);
    await eventually(() => t.action(ccid, 'transfer').length === 1, 10_000, 'the transfer');
    const call = (await t.gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid }))!;
    expect(t.action(ccid, 'transfer')[0]!.body).toEqual({
      to: '+15557778888',
      from: '+15559994444',
      client_state: b64(call.id),
      command_id: `route-${call.id}`,
    });
    const state = async () => (await gql(t.gw.url, own.liveKey, CallStateDocument, { id: call.id })).data!.call!;
    await eventually(async () => (await state()).transferredTo === '+15557778888', 10_000, 'TRANSFERRED');
    expect(await state()).toMatchObject({ status: 'RINGING', transferredToChannel: 'PSTN' });
    expect(await t.telnyx.send(t.hook, 'call.bridged', { call_control_id: ccid, client_state: b64(call.id) })).toBe(200);
    await eventually(async () => (await state()).status === 'IN_PROGRESS', 10_000, 'IN_PROGRESS');
    // No answerCall by the application, no command.
    expect((await state()).commands).toEqual([]);
  });
});
