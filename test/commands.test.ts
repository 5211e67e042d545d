import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallStatus } from '../src/domain/call.js';
import {
  bootGateway,
  commandRowCounts,
  eventually,
  gql,
  listenersRegistered,
  newApp,
  rawGql,
  rowCounts,
  type TestApp,
  type TestGateway,
} from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import {
  AnswerCallDocument,
  CallStateDocument,
  CreateCallDocument,
  HangupCallDocument,
  HoldCallDocument,
  MuteCallDocument,
  RejectCallDocument,
  SendToVoicemailDocument,
  SimulateInboundCallDocument,
  StartRecordingDocument,
  StopRecordingDocument,
  TransferCallDocument,
  UnholdCallDocument,
  UnmuteCallDocument,
} from './gql/graphql.js';

let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  // 20× faster than real time, not the usual 100×: an inbound test call rings for 30 s before it
  // is NO_ANSWER, and at 100× that left 300 ms between the test seeing RINGING and the command it
  // sends, which a loaded CI machine missed (sendToVoicemail got CALL_NOT_ACTIVE, "NO_ANSWER").
  // Now the window is 1.5 s; everything else the tests wait for still comes within a second or two.
  gw = await bootGateway({ simulator: 'fast', env: { SIMULATOR_TIME_SCALE: '0.05' } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const state = async (id: string, key = app.testKey) => (await gql(gw.url, key, CallStateDocument, { id })).data!.call!;

/** A test call to +15005550006: answered, then IN_PROGRESS until a command ends it. */
async function callInProgress(): Promise<string> {
  const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
  const id = created.data!.createCall.call!.id;
  await eventually(async () => (await state(id)).status === 'IN_PROGRESS', 10_000, 'the call to be answered');
  return id;
}

async function inboundRinging(): Promise<string> {
  const { data } = await gql(gw.url, app.testKey, SimulateInboundCallDocument, { input: { from: '+15557654321', to: app.number } });
  expect(data!.simulateInboundCall.userErrors).toEqual([]);
  const id = data!.simulateInboundCall.call!.id;
  expect(data!.simulateInboundCall.call).toMatchObject({ direction: 'INBOUND', fromAddress: '+15557654321', toAddress: app.number });
  await eventually(async () => (await state(id)).status === 'RINGING', 10_000, 'the inbound call to ring');
  return id;
}

/** Waits until the command is APPLIED, and returns the call's state after that. */
async function applied(callId: string, commandId: string) {
  await eventually(
    async () => (await state(callId)).commands.some((c) => c.id === commandId && c.status === 'APPLIED'),
    10_000,
    `command ${commandId} to apply`,
  );
  // Read again: within one response the call's fields are read before its commands, so they
  // may predate the commit that applied the command.
  return state(callId);
}

describe('call commands on a call in progress (simulator)', () => {
  it("each command's arguments come back typed: in Call.commands (HTTP) and on callStatus events (WebSocket)", async () => {
    const ARGS = 'arguments { reason musicUrl leg to toChannel format digits durationMs }';
    const id = await callInProgress();
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub = collect(client, `subscription($id: ID!) { callStatus(callId: $id, after: null) { kind command { type ${ARGS} } } }`, { id });
      const steps: [string, string, Record<string, unknown>][] = [
        ['muteCall', 'MuteCallInput', { callId: id, leg: 'TO' }],
        ['holdCall', 'HoldCallInput', { callId: id, musicUrl: 'https://music.example/hold.mp3' }],
        ['unholdCall', 'CallIdInput', { callId: id }],
        ['startRecording', 'StartRecordingInput', { callId: id, format: 'WAV' }],
        ['sendDtmf', 'SendDtmfInput', { callId: id, digits: '12#', duration: 250 }],
        ['transferCall', 'TransferCallInput', { callId: id, to: '+15005550001', toChannel: 'PSTN' }],
      ];
      for (const [mutation, inputType, input] of steps) {
        const answer = await rawGql(gw.url, app.testKey, {
          query: `mutation($input: ${inputType}!) { ${mutation}(input: $input) { command { id status } userErrors { code } } }`,
          variables: { input },
        });
        expect(answer.data[mutation].userErrors, mutation).toEqual([]);
        await applied(id, answer.data[mutation].command.id);
      }
      const none = { reason: null, musicUrl: null, leg: null, to: null, toChannel: null, format: null, digits: null, durationMs: null };
      const expected = [
        ['MUTE', { ...none, leg: 'TO' }],
        ['HOLD', { ...none, musicUrl: 'https://music.example/hold.mp3' }],
        ['UNHOLD', none],
        ['START_RECORDING', { ...none, format: 'WAV' }],
        ['SEND_DTMF', { ...none, digits: '12#', durationMs: 250 }],
        ['TRANSFER', { ...none, to: '+15005550001', toChannel: 'PSTN' }],
      ];
      const read = await rawGql(gw.url, app.testKey, { query: `query($id: ID!) { call(id: $id) { commands { type ${ARGS} } } }`, variables: { id } });
      expect(read.errors).toBeUndefined();
      expect(read.data.call.commands.map((command: any) => [command.type, command.arguments])).toEqual(expected);
      const events = await sub.until((items) => new Set(items.flatMap((item) => (item.command ? [item.command.type] : []))).size === expected.length);
      sub.stop();
      const byType = new Map(events.flatMap((event) => (event.command ? [[event.command.type, event.command.arguments]] : [])));
      expect([...byType]).toEqual(expect.arrayContaining(expected));

      // A rejected call's reason, on an inbound call.
      const inbound = await inboundRinging();
      const rejected = (await gql(gw.url, app.testKey, RejectCallDocument, { input: { callId: inbound, reason: 'DECLINED' } })).data!.rejectCall;
      await applied(inbound, rejected.command!.id);
      const commands = await rawGql(gw.url, app.testKey, {
        query: `query($id: ID!) { call(id: $id) { commands { type ${ARGS} } } }`,
        variables: { id: inbound },
      });
      expect(commands.data.call.commands).toEqual([{ type: 'REJECT', arguments: { ...none, reason: 'DECLINED' } }]);
    } finally {
      await client.dispose();
    }
  });

  it('hold then unhold: ACCEPTED, then APPLIED with HELD / UNHELD on the timeline and onHold on the call', async () => {
    const id = await callInProgress();
    const hold = (await gql(gw.url, app.testKey, HoldCallDocument, { input: { callId: id, musicUrl: 'https://example.com/hold.mp3' } })).data!.holdCall;
    expect(hold.userErrors).toEqual([]);
    expect(hold.command).toMatchObject({ type: 'HOLD', error: null });
    expect(['ACCEPTED', 'APPLIED']).toContain(hold.command!.status);
    let call = await applied(id, hold.command!.id);
    expect(call.onHold).toBe(true);
    const held = call.events.nodes.find((event) => event.kind === 'HELD')!;
    expect(held).toMatchObject({ status: 'IN_PROGRESS', previousStatus: 'IN_PROGRESS', command: { id: hold.command!.id, type: 'HOLD' } });

    const unhold = (await gql(gw.url, app.testKey, UnholdCallDocument, { input: { callId: id } })).data!.unholdCall;
    expect(unhold.userErrors).toEqual([]);
    call = await applied(id, unhold.command!.id);
    expect(call.onHold).toBe(false);
    expect(call.events.nodes.map((event) => event.kind)).toEqual(['STATUS_CHANGED', 'STATUS_CHANGED', 'STATUS_CHANGED', 'HELD', 'UNHELD']);
    expect(call.events.nodes.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('mute and unmute each leg; muting a muted leg is COMMAND_NOT_ALLOWED', async () => {
    const id = await callInProgress();
    const mute = (await gql(gw.url, app.testKey, MuteCallDocument, { input: { callId: id, leg: 'TO' } })).data!.muteCall;
    expect(mute.userErrors).toEqual([]);
    expect((await applied(id, mute.command!.id)).mutedLegs).toEqual(['TO']);
    const defaultLeg = (await gql(gw.url, app.testKey, MuteCallDocument, { input: { callId: id } })).data!.muteCall;
    expect((await applied(id, defaultLeg.command!.id)).mutedLegs).toEqual(['TO', 'FROM']);
    const again = (await gql(gw.url, app.testKey, MuteCallDocument, { input: { callId: id, leg: 'TO' } })).data!.muteCall;
    expect(again.command).toBeNull();
    expect(again.userErrors).toEqual([{ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'], message: expect.stringContaining('already muted') }]);
    const unmute = (await gql(gw.url, app.testKey, UnmuteCallDocument, { input: { callId: id, leg: 'TO' } })).data!.unmuteCall;
    expect((await applied(id, unmute.command!.id)).mutedLegs).toEqual(['FROM']);
  });

  it('transfer records where the call went', async () => {
    const id = await callInProgress();
    const transfer = (await gql(gw.url, app.testKey, TransferCallDocument, { input: { callId: id, to: 'agent-7', toChannel: 'WEBRTC' } })).data!.transferCall;
    expect(transfer.userErrors).toEqual([]);
    const call = await applied(id, transfer.command!.id);
    expect(call).toMatchObject({ transferredTo: 'agent-7', transferredToChannel: 'WEBRTC', status: 'IN_PROGRESS' });
    expect(call.events.nodes.at(-1)).toMatchObject({ kind: 'TRANSFERRED' });
  });

  it('recording: started, stopped, then saved with a duration and a URL in its format', async () => {
    const id = await callInProgress();
    const start = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: id, format: 'WAV' } })).data!.startRecording;
    expect(start.userErrors).toEqual([]);
    let call = await applied(id, start.command!.id);
    expect(call.recording).toBe(true);
    expect(call.recordings).toEqual([expect.objectContaining({ format: 'WAV', status: 'RECORDING', duration: null, url: null })]);
    const twice = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: id } })).data!.startRecording;
    expect(twice.userErrors[0]).toMatchObject({ code: 'COMMAND_NOT_ALLOWED', message: expect.stringContaining('already being recorded') });

    const stop = (await gql(gw.url, app.testKey, StopRecordingDocument, { input: { callId: id } })).data!.stopRecording;
    expect(stop.userErrors).toEqual([]);
    call = await applied(id, stop.command!.id);
    expect(call.recording).toBe(false);
    await eventually(async () => (call = await state(id)).recordings[0]!.status === 'SAVED', 10_000, 'the recording to be saved');
    call = await state(id); // its events, read in the same response, may predate the commit that saved it
    const [recording] = call.recordings;
    // The API's link is the gateway's (GET with the key); it redirects to where the file is.
    expect(recording!.url).toBe(`${new URL(gw.url).origin}/recordings/${recording!.id}`);
    const file = await fetch(recording!.url!, { redirect: 'manual', headers: { authorization: `Bearer ${app.testKey}` } });
    expect([file.status, file.headers.get('location')]).toEqual([302, `https://recordings.simulator.invalid/${id}/${recording!.id}.wav`]);
    expect((await fetch(recording!.url!, { redirect: 'manual', headers: { authorization: `Bearer ${app.liveKey}` } })).status).toBe(404);
    expect(recording!.duration).toBeGreaterThanOrEqual(0);
    expect(call.events.nodes.map((event) => event.kind).slice(-3)).toEqual(['RECORDING_STARTED', 'RECORDING_STOPPED', 'RECORDING_SAVED']);
  });

  it('a recording the end of the call interrupts is saved too', async () => {
    const id = await callInProgress();
    const start = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: id, format: 'MP3' } })).data!.startRecording;
    await applied(id, start.command!.id);
    const hangup = (await gql(gw.url, app.testKey, HangupCallDocument, { input: { callId: id } })).data!.hangupCall;
    let call = await applied(id, hangup.command!.id);
    expect(call).toMatchObject({ status: 'COMPLETED', endReason: 'HANGUP', recording: false });
    await eventually(async () => (call = await state(id)).recordings[0]!.status === 'SAVED', 10_000, 'the interrupted recording to be saved');
    const file = await fetch(call.recordings[0]!.url!, { redirect: 'manual', headers: { authorization: `Bearer ${app.testKey}` } });
    expect(file.headers.get('location')).toMatch(/\.mp3$/);
  });

  it('recording formats follow one table, test calls included: the default is one the call can record, another format is refused and changes nothing', async () => {
    // PSTN to PSTN (as Telnyx Call Control): MP3 by default, WAV too; not OGG, MP4 or WEBM.
    const pstn = await callInProgress();
    for (const format of ['OGG', 'MP4', 'WEBM'] as const) {
      const before = await commandRowCounts(gw.database, pstn);
      const refused = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: pstn, format } })).data!.startRecording;
      expect(refused.command).toBeNull();
      expect(refused.userErrors).toEqual([
        { code: 'COMMAND_NOT_ALLOWED', field: ['input', 'format'], message: `a PSTN to PSTN call (Telnyx Call Control) records MP3 or WAV, not ${format}` },
      ]);
      expect(await commandRowCounts(gw.database, pstn)).toEqual(before);
    }
    const byDefault = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: pstn } })).data!.startRecording;
    expect(byDefault.userErrors).toEqual([]);
    expect((await applied(pstn, byDefault.command!.id)).recordings).toEqual([expect.objectContaining({ format: 'MP3' })]);

    // A call in a LiveKit room (here WebRTC to WebRTC): OGG by default; not WAV or WEBM.
    const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: 'alice', fromChannel: 'WEBRTC', to: 'bob', toChannel: 'WEBRTC' } });
    const room = created.data!.createCall.call!.id;
    await eventually(async () => (await state(room)).status === 'IN_PROGRESS', 10_000, 'the WebRTC call to be answered');
    const wav = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: room, format: 'WAV' } })).data!.startRecording;
    expect(wav.userErrors).toEqual([
      expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', message: 'a call in a LiveKit room records OGG, MP4 or MP3, not WAV' }),
    ]);
    const inRoom = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: room } })).data!.startRecording;
    expect(inRoom.userErrors).toEqual([]);
    expect((await applied(room, inRoom.command!.id)).recordings).toEqual([expect.objectContaining({ format: 'OGG' })]);
  });

  it('hangup of an answered call completes it ("hangup"); the transition names the command', async () => {
    const id = await callInProgress();
    const hangup = (await gql(gw.url, app.testKey, HangupCallDocument, { input: { callId: id } })).data!.hangupCall;
    expect(hangup.userErrors).toEqual([]);
    const call = await applied(id, hangup.command!.id);
    expect(call).toMatchObject({ status: 'COMPLETED', endReason: 'HANGUP' });
    expect(call.events.nodes.at(-1)).toMatchObject({ kind: 'STATUS_CHANGED', status: 'COMPLETED', command: { id: hangup.command!.id, type: 'HANGUP' } });
  });

  it('sendToVoicemail moves an answered call to VOICEMAIL, and it completes with endReason "voicemail"', async () => {
    const id = await callInProgress();
    const sent = (await gql(gw.url, app.testKey, SendToVoicemailDocument, { input: { callId: id } })).data!.sendToVoicemail;
    expect(sent.userErrors).toEqual([]);
    await applied(id, sent.command!.id);
    let call = await state(id);
    await eventually(async () => (call = await state(id)).status === 'COMPLETED', 10_000, 'the voicemail to end');
    expect(call.endReason).toBe('VOICEMAIL');
    const statusChanges = call.events.nodes.filter((event) => event.kind === 'STATUS_CHANGED');
    expect(statusChanges.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'VOICEMAIL', 'COMPLETED']);
    // The caller's message is recorded while in VOICEMAIL (as on a live call).
    expect(call.events.nodes.find((event) => event.kind === 'RECORDING_STARTED')).toMatchObject({ status: 'VOICEMAIL' });
  });

  it('sendToVoicemail while the call is being recorded is refused (stopRecording first) and changes nothing; after stopRecording it goes to voicemail', async () => {
    const id = await callInProgress();
    const start = (await gql(gw.url, app.testKey, StartRecordingDocument, { input: { callId: id } })).data!.startRecording;
    await applied(id, start.command!.id);
    const before = await commandRowCounts(gw.database, id);
    const refused = (await gql(gw.url, app.testKey, SendToVoicemailDocument, { input: { callId: id } })).data!.sendToVoicemail;
    expect(refused.command).toBeNull();
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'] })]);
    expect(refused.userErrors[0]!.message).toMatch(/stopRecording first/);
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
    expect((await state(id)).status).toBe('IN_PROGRESS');
    const stop = (await gql(gw.url, app.testKey, StopRecordingDocument, { input: { callId: id } })).data!.stopRecording;
    await applied(id, stop.command!.id);
    const sent = (await gql(gw.url, app.testKey, SendToVoicemailDocument, { input: { callId: id } })).data!.sendToVoicemail;
    expect(sent.userErrors).toEqual([]);
    let call = await state(id);
    await eventually(async () => (call = await state(id)).status === 'COMPLETED', 10_000, 'the voicemail to end');
    expect(call.endReason).toBe('VOICEMAIL');
    expect(call.recordings.map((recording) => recording.kind).sort()).toEqual(['CALL', 'VOICEMAIL']);
  });

  it('five concurrent holdCall requests store one command; the others are refused and change nothing', async () => {
    const id = await callInProgress();
    const results = await Promise.all(Array.from({ length: 5 }, () => gql(gw.url, app.testKey, HoldCallDocument, { input: { callId: id } })));
    const accepted = results.filter((result) => result.data!.holdCall.userErrors.length === 0);
    expect(accepted).toHaveLength(1);
    for (const refused of results.filter((result) => result.data!.holdCall.userErrors.length > 0)) {
      expect(refused.data!.holdCall.userErrors[0]!.code).toBe('COMMAND_NOT_ALLOWED');
    }
    const call = await applied(id, accepted[0]!.data!.holdCall.command!.id);
    expect(call.commands.filter((command) => command.type === 'HOLD')).toHaveLength(1);
    expect(call.events.nodes.filter((event) => event.kind === 'HELD')).toHaveLength(1);
  });
});

describe('commands that do not apply are refused with a code and a field, and change nothing', () => {
  it.each([
    ['holdCall on a call not yet answered', 'ringing', HoldCallDocument, {}, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['unholdCall on a call not on hold', 'in_progress', UnholdCallDocument, {}, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['unmuteCall on a leg not muted', 'in_progress', UnmuteCallDocument, { leg: 'FROM' }, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['stopRecording when not recording', 'in_progress', StopRecordingDocument, {}, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['answerCall on an outbound call', 'in_progress', AnswerCallDocument, {}, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['rejectCall on an outbound call', 'ringing', RejectCallDocument, {}, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['sendToVoicemail on a ringing outbound call', 'ringing', SendToVoicemailDocument, {}, 'COMMAND_NOT_ALLOWED', ['input', 'callId']],
    ['hangupCall on an ended call', 'ended', HangupCallDocument, {}, 'CALL_NOT_ACTIVE', ['input', 'callId']],
    ['holdCall on an ended call', 'ended', HoldCallDocument, {}, 'CALL_NOT_ACTIVE', ['input', 'callId']],
    ['holdCall with an http:// musicUrl', 'in_progress', HoldCallDocument, { musicUrl: 'http://example.com/a.mp3' }, 'INVALID_ADDRESS', ['input', 'musicUrl']],
    [
      'transferCall to a number that is not possible',
      'in_progress',
      TransferCallDocument,
      { to: '+1555', toChannel: 'PSTN' },
      'INVALID_PHONE_NUMBER',
      ['input', 'to'],
    ],
    [
      'transferCall to a bad WebRTC identity',
      'in_progress',
      TransferCallDocument,
      { to: 'no spaces', toChannel: 'WEBRTC' },
      'INVALID_ADDRESS',
      ['input', 'to'],
    ],
  ] as const)('%s', async (_name, phase, document, extra, code, field) => {
    // +15005550003 rings for 20 s (×0.01: 200 ms, enough for one request); +15005550006 stays in
    // progress; +15005550002 ends BUSY.
    const to = phase === 'ringing' ? '+15005550003' : phase === 'ended' ? '+15005550002' : '+15005550006';
    const target = { ringing: 'RINGING', in_progress: 'IN_PROGRESS', ended: 'BUSY' }[phase];
    const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to } });
    const id = created.data!.createCall.call!.id;
    await eventually(async () => (await state(id)).status === target, 10_000, `the call to be ${target}`);
    const counts = () => commandRowCounts(gw.database, id);
    const before = await counts();
    const { data, errors } = await gql(gw.url, app.testKey, document as typeof HoldCallDocument, { input: { callId: id, ...extra } as { callId: string } });
    expect(errors).toBeUndefined();
    const payload = Object.values(data!)[0] as { command: unknown; userErrors: { code: string; field: string[] }[] };
    expect(payload.command).toBeNull();
    expect(payload.userErrors).toEqual([expect.objectContaining({ code, field })]);
    expect(await counts()).toEqual(before);
  });

  it("an unknown call, another application's call and a test call seen with the live key are all CALL_NOT_FOUND", async () => {
    const other = await newApp(gw.admin, 'other');
    const created = await gql(gw.url, other.testKey, CreateCallDocument, { input: { from: other.number, to: '+15005550006' } });
    const theirs = created.data!.createCall.call!.id;
    const mine = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!.id;
    for (const [key, callId] of [
      [app.testKey, 'call_test_000000000000000000000000000'],
      [app.testKey, 'not-an-id'],
      [app.testKey, theirs],
      [app.liveKey, mine],
    ] as const) {
      const { data } = await gql(gw.url, key, HangupCallDocument, { input: { callId } });
      expect(data!.hangupCall).toMatchObject({ call: null, command: null, userErrors: [{ code: 'CALL_NOT_FOUND', field: ['input', 'callId'] }] });
    }
    expect((await state(theirs, other.testKey)).commands).toEqual([]);
  });
});

describe('inbound test calls (simulateInboundCall)', () => {
  it('answerCall connects a ringing inbound call; the caller hangs up later', async () => {
    const id = await inboundRinging();
    const answer = (await gql(gw.url, app.testKey, AnswerCallDocument, { input: { callId: id } })).data!.answerCall;
    expect(answer.userErrors).toEqual([]);
    let call = await applied(id, answer.command!.id);
    expect(call.events.nodes.find((event) => event.status === 'IN_PROGRESS')!.command).toMatchObject({ type: 'ANSWER' });
    await eventually(async () => (call = await state(id)).status === 'COMPLETED', 10_000, 'the caller to hang up');
    expect(call.endReason).toBe('HANGUP');
  });

  it.each([
    ['BUSY', 'BUSY', 'BUSY'],
    ['DECLINED', 'BUSY', 'REJECTED'],
  ] as const)('rejectCall with reason %s ends it %s (%s)', async (reason, status, endReason) => {
    const id = await inboundRinging();
    const reject = (await gql(gw.url, app.testKey, RejectCallDocument, { input: { callId: id, reason } })).data!.rejectCall;
    expect(reject.userErrors).toEqual([]);
    expect(await applied(id, reject.command!.id)).toMatchObject({ status, endReason });
  });

  it('sendToVoicemail on a ringing inbound call: VOICEMAIL, the message recorded (a VOICEMAIL recording, saved), then COMPLETED ("voicemail")', async () => {
    const id = await inboundRinging();
    const sent = (await gql(gw.url, app.testKey, SendToVoicemailDocument, { input: { callId: id } })).data!.sendToVoicemail;
    expect(sent.userErrors).toEqual([]);
    let call = await state(id);
    await eventually(async () => (call = await state(id)).recordings.length === 1, 10_000, 'the message to be recorded');
    expect(call.recordings[0]).toMatchObject({ kind: 'VOICEMAIL', format: 'MP3', status: 'RECORDING' });
    await eventually(async () => (call = await state(id)).status === 'COMPLETED', 10_000, 'the voicemail to end');
    expect(call.endReason).toBe('VOICEMAIL');
    await eventually(async () => (call = await state(id)).recordings[0]!.status === 'SAVED', 10_000, 'the message to be saved');
    expect(call.recordings).toEqual([expect.objectContaining({ kind: 'VOICEMAIL', status: 'SAVED' })]);
  });

  it('hangupCall on a ringing inbound call declines it as rejectCall(DECLINED) does: BUSY "rejected" (CANCELED is the calling side ending first)', async () => {
    const id = await inboundRinging();
    const hangup = (await gql(gw.url, app.testKey, HangupCallDocument, { input: { callId: id } })).data!.hangupCall;
    expect(await applied(id, hangup.command!.id)).toMatchObject({ status: 'BUSY', endReason: 'REJECTED', hangupSource: 'API' });
  });

  it('an inbound call nobody answers ends NO_ANSWER', async () => {
    const id = await inboundRinging();
    let call = await state(id);
    await eventually(async () => (call = await state(id)).status === 'NO_ANSWER', 10_000, 'the ring timeout');
    expect(call.endReason).toBe('NO_ANSWER');
  });

  it('refuses a live key, a number of another application and a bad caller, creating nothing', async () => {
    const other = await newApp(gw.admin, 'other inbound');
    const before = await rowCounts(gw.database, app.id);
    const cases = [
      [app.liveKey, { from: '+15557654321', to: app.number }, 'TEST_MODE_ONLY', ['input']],
      [app.testKey, { from: '+15557654321', to: other.number }, 'PHONE_NUMBER_NOT_ASSIGNED', ['input', 'to']],
      [app.testKey, { from: '12', to: app.number }, 'INVALID_PHONE_NUMBER', ['input', 'from']],
    ] as const;
    for (const [key, input, code, field] of cases) {
      const { data } = await gql(gw.url, key, SimulateInboundCallDocument, { input });
      expect(data!.simulateInboundCall).toMatchObject({ call: null, userErrors: [{ code, field }] });
    }
    expect(await rowCounts(gw.database, app.id)).toEqual(before);
    expect(await rowCounts(gw.database, other.id)).toMatchObject({ calls: 0 });
  });
});

describe('command effects in callStatus', () => {
  it('a subscriber to one call sees HELD and UNHELD with their commands, in sequence', async () => {
    const id = await callInProgress();
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(
        client,
        `subscription($callId: ID) { callStatus(callId: $callId) { sequence kind status command { type status } call { onHold } } }`,
        { callId: id },
      );
      await listenersRegistered(gw, before + 1);
      const hold = (await gql(gw.url, app.testKey, HoldCallDocument, { input: { callId: id } })).data!.holdCall;
      await applied(id, hold.command!.id);
      await gql(gw.url, app.testKey, UnholdCallDocument, { input: { callId: id } });
      const events = await sub.until((items) => items.length >= 3);
      sub.stop();
      expect(events).toEqual([
        { sequence: 3, kind: 'STATUS_CHANGED', status: 'IN_PROGRESS', command: null, call: expect.any(Object) },
        { sequence: 4, kind: 'HELD', status: 'IN_PROGRESS', command: { type: 'HOLD', status: 'APPLIED' }, call: expect.any(Object) },
        { sequence: 5, kind: 'UNHELD', status: 'IN_PROGRESS', command: { type: 'UNHOLD', status: 'APPLIED' }, call: expect.any(Object) },
      ]);
    } finally {
      await client.dispose();
    }
  });
});

describe('a provider that confirms later (simulator frozen: commands confirm after 250 ms)', () => {
  let slow: TestGateway;
  let slowApp: TestApp;
  beforeAll(async () => {
    slow = await bootGateway({ simulator: 'frozen' });
    slowApp = await newApp(slow.admin);
  });
  afterAll(() => slow.stop());
  const slowState = async (id: string) => (await gql(slow.url, slowApp.testKey, CallStateDocument, { id })).data!.call!;

  it('hangupCall on a call still INITIATED is ACCEPTED, then APPLIED: CANCELED ("hangup")', async () => {
    const id = (await gql(slow.url, slowApp.testKey, CreateCallDocument, { input: { from: slowApp.number, to: '+15005550001' } })).data!.createCall.call!.id;
    const hangup = (await gql(slow.url, slowApp.testKey, HangupCallDocument, { input: { callId: id } })).data!.hangupCall;
    expect(hangup).toMatchObject({ userErrors: [], command: { type: 'HANGUP', status: 'ACCEPTED' }, call: { status: 'INITIATED' } });
    let call = await slowState(id);
    await eventually(async () => (call = await slowState(id)).status === 'CANCELED', 10_000, 'the hangup to apply');
    expect(call.endReason).toBe('HANGUP');
    await eventually(async () => (call = await slowState(id)).commands[0]!.status === 'APPLIED', 10_000, 'the command to be APPLIED');
  });

  it('a command whose call ends before the provider confirms it FAILS, with a COMMAND_FAILED event', async () => {
    const id = (await gql(slow.url, slowApp.testKey, CreateCallDocument, { input: { from: slowApp.number, to: '+15005550006' } })).data!.createCall.call!.id;
    // The test plays the network: the callee answers.
    await slow.gateway.lifecycle.apply({ callId: id, status: CallStatus.RINGING });
    await slow.gateway.lifecycle.apply({ callId: id, status: CallStatus.IN_PROGRESS });
    const hold = (await gql(slow.url, slowApp.testKey, HoldCallDocument, { input: { callId: id } })).data!.holdCall;
    expect(hold.command!.status).toBe('ACCEPTED');
    // ... and hangs up before the hold is confirmed.
    await slow.gateway.lifecycle.apply({ callId: id, status: CallStatus.COMPLETED });
    await slowState(id);
    await eventually(async () => (await slowState(id)).commands[0]!.status === 'FAILED', 10_000, 'the hold to fail');
    const call = await slowState(id);
    expect(call.commands[0]!.error).toMatch(/moved on \(COMPLETED\)/);
    expect(call.onHold).toBe(false);
    expect(call.events.nodes.map((event) => event.kind)).toEqual(['STATUS_CHANGED', 'STATUS_CHANGED', 'STATUS_CHANGED', 'STATUS_CHANGED', 'COMMAND_FAILED']);
    expect(call.events.nodes.at(-1)).toMatchObject({ status: 'COMPLETED', command: { id: hold.command!.id } });
  });
});
