import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from 'livekit-server-sdk';
import { loadConfig } from '../src/config.js';
import { bootGateway, commandRowCounts, eventually, gql, listenersRegistered, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient, wsRequest } from './helpers/ws.js';
import { FakeLiveKit } from './fakes/livekit-server.js';
import {
  CallStateDocument,
  CreateCallDocument,
  CreateCallTokenDocument,
  HangupCallDocument,
  HoldCallDocument,
  MuteCallDocument,
  SendDtmfDocument,
  SendToVoicemailDocument,
  StartRecordingDocument,
  StopRecordingDocument,
  TransferCallDocument,
  UnholdCallDocument,
  UnmuteCallDocument,
} from './gql/graphql.js';

// LiveKit is not reachable from here: the provider runs through livekit-server-sdk against
// FakeLiveKit, a loopback server speaking LiveKit's Twirp API, checking the SDK's signed tokens
// and grants, and signing webhooks with the same API key and secret as LiveKit's server.
let lk: FakeLiveKit;
let gw: TestGateway;
let app: TestApp;
let webhookUrl: string;

beforeAll(async () => {
  lk = await new FakeLiveKit().start();
  gw = await bootGateway({ env: { ...lk.env(), ACCESS_TOKEN_KEYS: `k1:${'k'.repeat(40)}` } });
  app = await newApp(gw.admin);
  webhookUrl = gw.url.replace(/\/graphql$/, '/webhooks/livekit');
});
afterAll(async () => {
  await gw.stop();
  await lk.stop();
});

const state = async (id: string, key = app.liveKey) => (await gql(gw.url, key, CallStateDocument, { id })).data!.call!;
const until = async (id: string, status: string) => {
  let call = await state(id);
  await eventually(async () => (call = await state(id)).status === status, 10_000, `call ${id} to be ${status}`);
  return call;
};
const twirp = (method: string) => lk.to(new RegExp(`/twirp/livekit\\.${method}$`));
const joined = (room: string, identity: string) =>
  lk.send(webhookUrl, { event: 'participant_joined', room: { name: room, sid: 'RM_1' }, participant: { identity, sid: 'PA_1' } });
const left = (room: string, identity: string) =>
  lk.send(webhookUrl, { event: 'participant_left', room: { name: room, sid: 'RM_1' }, participant: { identity, sid: 'PA_1' } });

async function webrtcCall(to = 'bob'): Promise<string> {
  const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: 'alice', fromChannel: 'WEBRTC', to, toChannel: 'WEBRTC' } });
  expect(data!.createCall.userErrors).toEqual([]);
  return data!.createCall.call!.id;
}

/** A WEBRTC call both parties joined: IN_PROGRESS, with audio tracks in the fake room. */
async function inProgress(): Promise<string> {
  const id = await webrtcCall();
  lk.join(id, 'alice');
  lk.join(id, 'bob');
  expect(await joined(id, 'bob')).toBe(200);
  await until(id, 'IN_PROGRESS');
  return id;
}

describe('WebRTC on LiveKit (through livekit-server-sdk, against a local LiveKit)', () => {
  it('a full WEBRTC → WEBRTC call: the room is created, a token joins it, participant webhooks drive the status, in `call` and callStatus', async () => {
    const client = wsClient(gw.wsUrl, app.liveKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus(filter: {toAddress: "dave"}) { sequence status call { id } } }`, {});
      await listenersRegistered(gw, before + 1);
      const id = await webrtcCall('dave');
      const create = twirp('RoomService/CreateRoom').at(-1)!;
      expect(create.headers.authorization).toMatch(/^Bearer ey/);
      expect(create.body).toMatchObject({ name: id, emptyTimeout: 60, departureTimeout: 20, metadata: JSON.stringify({ callId: id }) });
      expect((await state(id)).status).toBe('RINGING');

      const token = (
        await gql(gw.url, app.liveKey, CreateCallTokenDocument, { input: { callId: id, participantIdentity: 'dave', participantName: 'Dave', ttl: 600 } })
      ).data!.createCallToken;
      expect(token).toMatchObject({ userErrors: [], roomName: id, serverUrl: lk.url.replace(/^http/, 'ws') });
      const claims = await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(token.token!);
      expect(claims).toMatchObject({ sub: 'dave', name: 'Dave', video: { roomJoin: true, room: id, canPublish: true, canSubscribe: true } });
      expect(claims.video!.roomAdmin ?? false).toBe(false);
      expect(Math.abs(Date.parse(token.expiresAt!) - (Date.now() + 600_000))).toBeLessThan(5_000);

      expect(await joined(id, 'dave')).toBe(200);
      await until(id, 'IN_PROGRESS');
      expect(await left(id, 'alice')).toBe(200);
      expect(await until(id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP', hangupSource: 'CALLER' });
      const events = await sub.until((items) => items.length >= 4);
      sub.stop();
      expect(events.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED']);
    } finally {
      await client.dispose();
    }
  });

  it('a callee who never joins: room_finished ends the call NO_ANSWER', async () => {
    const id = await webrtcCall('erin');
    await lk.send(webhookUrl, { event: 'room_finished', room: { name: id, sid: 'RM_2' } });
    expect(await until(id, 'NO_ANSWER')).toMatchObject({ endReason: 'NO_ANSWER', hangupSource: 'SYSTEM' });
  });

  it('WEBRTC → PSTN (cross-channel): the PSTN party is dialed into the room over SIP through the Telnyx trunk', async () => {
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, {
      input: { from: 'alice', fromChannel: 'WEBRTC', to: '+15557001234', toChannel: 'PSTN' },
    });
    expect(data!.createCall.userErrors).toEqual([]);
    const id = data!.createCall.call!.id;
    expect(data!.createCall.call!.livekitRoomName).toBe(id);
    expect(twirp('SIP/CreateSIPParticipant').at(-1)!.body).toMatchObject({
      sipTrunkId: lk.sipTrunkId,
      sipCallTo: '+15557001234',
      roomName: id,
      participantIdentity: 'sip:+15557001234',
    });
    // LiveKit SIP: the participant joins while its call is dialing (sip.callStatus "dialing"),
    // and publishes its audio once answered ("active"). Only then is the call answered.
    const sip = (event: string, callStatus: string) =>
      lk.send(webhookUrl, {
        event,
        room: { name: id, sid: 'RM_1' },
        participant: {
          identity: 'sip:+15557001234',
          sid: 'PA_SIP',
          kind: 'SIP',
          attributes: { 'sip.callStatus': callStatus, 'sip.phoneNumber': '+15557001234' },
        },
      });
    await sip('participant_joined', 'dialing');
    expect((await until(id, 'RINGING')).answeredAt).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await state(id)).status).toBe('RINGING');
    await sip('track_published', 'active');
    expect((await until(id, 'IN_PROGRESS')).answeredAt).not.toBeNull();
    await left(id, 'sip:+15557001234');
    expect(await until(id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP', hangupSource: 'CALLEE' });
  });

  it('a SIP leg that never answers: joined while dialing, left without an answer → NO_ANSWER, never IN_PROGRESS', async () => {
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, {
      input: { from: 'alice', fromChannel: 'WEBRTC', to: '+15557001236', toChannel: 'PSTN' },
    });
    const id = data!.createCall.call!.id;
    await lk.send(webhookUrl, {
      event: 'participant_joined',
      room: { name: id, sid: 'RM_1' },
      participant: { identity: 'sip:+15557001236', sid: 'PA_SIP2', kind: 'SIP', attributes: { 'sip.callStatus': 'dialing' } },
    });
    await until(id, 'RINGING');
    await left(id, 'sip:+15557001236');
    const ended = await until(id, 'NO_ANSWER');
    expect(ended.answeredAt).toBeNull();
    expect(ended.events.nodes.map((event: { status: string }) => event.status)).not.toContain('IN_PROGRESS');
  });

  it.each([
    ['USER_REJECTED', 'BUSY', 'BUSY', 'CALLEE'],
    ['USER_UNAVAILABLE', 'NO_ANSWER', 'NO_ANSWER', 'SYSTEM'],
    ['SIP_TRUNK_FAILURE', 'FAILED', 'FAILED', 'SYSTEM'],
  ] as const)(
    'a SIP callee that leaves unanswered with disconnectReason %s ends %s (%s, %s): refusing is BUSY as on Telnyx and WhatsApp',
    async (reason, status, endReason, hangupSource) => {
      const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, {
        input: { from: 'alice', fromChannel: 'WEBRTC', to: '+15557001237', toChannel: 'PSTN' },
      });
      const id = data!.createCall.call!.id;
      const participant = { identity: 'sip:+15557001237', sid: 'PA_SIP3', kind: 'SIP', attributes: { 'sip.callStatus': 'dialing' } };
      await lk.send(webhookUrl, { event: 'participant_joined', room: { name: id, sid: 'RM_1' }, participant });
      await until(id, 'RINGING');
      // LiveKit's ParticipantInfo in the webhook's JSON: the enum by name.
      await lk.send(webhookUrl, { event: 'participant_left', room: { name: id, sid: 'RM_1' }, participant: { ...participant, disconnectReason: reason } });
      const ended = await until(id, status);
      expect(ended).toMatchObject({ endReason, hangupSource, answeredAt: null });
    },
  );

  it('recordFromAnswer: the room is recorded (composite egress, the given format) once the callee joins, as a startRecording command of the call', async () => {
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, {
      input: { from: 'alice', fromChannel: 'WEBRTC', to: 'frank', toChannel: 'WEBRTC', recordFromAnswer: 'MP3' },
    });
    expect(data!.createCall.userErrors).toEqual([]);
    const id = data!.createCall.call!.id;
    const egresses = () => twirp('Egress/StartRoomCompositeEgress').filter((request) => request.body.roomName === id);
    expect(egresses()).toHaveLength(0);
    lk.join(id, 'alice');
    lk.join(id, 'frank');
    expect(await joined(id, 'frank')).toBe(200);
    let call = await until(id, 'IN_PROGRESS');
    await eventually(async () => (call = await state(id)).recording, 10_000, 'the recording to start');
    expect(egresses()).toHaveLength(1);
    expect(egresses()[0]!.body).toMatchObject({ roomName: id, audioOnly: true });
    expect(egresses()[0]!.rawBody).toContain('"MP3"');
    expect(call.commands).toEqual([expect.objectContaining({ type: 'START_RECORDING', status: 'APPLIED' })]);
  });

  it('PSTN → PSTN is not a room call: with Telnyx unconfigured it is PROVIDER_NOT_CONFIGURED', async () => {
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15557001235' } });
    expect(data!.createCall.userErrors[0]!.code).toBe('PROVIDER_NOT_CONFIGURED');
  });

  it('each command acts on the room with the documented LiveKit API and is APPLIED', async () => {
    const id = await inProgress();
    const mute = (await gql(gw.url, app.liveKey, MuteCallDocument, { input: { callId: id, leg: 'TO' } })).data!.muteCall;
    expect(mute).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { mutedLegs: ['TO'] } });
    expect(twirp('RoomService/MutePublishedTrack').at(-1)!.body).toMatchObject({ room: id, identity: 'bob', muted: true });
    expect(lk.rooms.get(id)!.get('bob')!.tracks[0]!.muted).toBe(true);
    await gql(gw.url, app.liveKey, UnmuteCallDocument, { input: { callId: id, leg: 'TO' } });
    expect(lk.rooms.get(id)!.get('bob')!.tracks[0]!.muted).toBe(false);

    const hold = (await gql(gw.url, app.liveKey, HoldCallDocument, { input: { callId: id } })).data!.holdCall;
    expect(hold).toMatchObject({ userErrors: [], call: { onHold: true } });
    const held = twirp('RoomService/UpdateParticipant').at(-1)!.body;
    // Proto3 JSON leaves false out: absent means false.
    expect(held).toMatchObject({ room: id, identity: 'bob', permission: { canPublishData: true } });
    expect([held.permission.canPublish ?? false, held.permission.canSubscribe ?? false]).toEqual([false, false]);
    await gql(gw.url, app.liveKey, UnholdCallDocument, { input: { callId: id } });
    expect(twirp('RoomService/UpdateParticipant').at(-1)!.body).toMatchObject({ permission: { canPublish: true, canSubscribe: true } });

    // No format: the default of a call in a room, OGG.
    const start = (await gql(gw.url, app.liveKey, StartRecordingDocument, { input: { callId: id } })).data!.startRecording;
    expect(start).toMatchObject({ userErrors: [], call: { recording: true } });
    const egress = twirp('Egress/StartRoomCompositeEgress').at(-1)!;
    expect(egress.body).toMatchObject({ roomName: id, audioOnly: true });
    expect(egress.rawBody).toContain('"OGG"');
    const egressId = [...lk.egresses.values()].find((e) => e.roomName === id)!.egressId;
    const stop = (await gql(gw.url, app.liveKey, StopRecordingDocument, { input: { callId: id } })).data!.stopRecording;
    expect(stop).toMatchObject({ userErrors: [], call: { recording: false } });
    expect(twirp('Egress/StopEgress').at(-1)!.body).toMatchObject({ egressId });
    await lk.send(webhookUrl, {
      event: 'egress_ended',
      egressInfo: {
        egressId,
        roomName: id,
        status: 'EGRESS_COMPLETE',
        fileResults: [{ filename: 'a.ogg', location: `https://storage.example/${id}/a.ogg`, duration: '42400000000' }],
      },
    });
    let call = await state(id);
    await eventually(async () => (call = await state(id)).recordings[0]?.status === 'SAVED', 10_000, 'the recording');
    // The API's link is the gateway's, for the key; it redirects to where egress stored the file.
    expect(call.recordings[0]).toMatchObject({ format: 'OGG', url: `${new URL(gw.url).origin}/recordings/${call.recordings[0]!.id}`, duration: 42 });
    const file = await fetch(call.recordings[0]!.url!, { redirect: 'manual', headers: { authorization: `Bearer ${app.liveKey}` } });
    expect([file.status, file.headers.get('location')]).toEqual([302, `https://storage.example/${id}/a.ogg`]);

    const transfer = (await gql(gw.url, app.liveKey, TransferCallDocument, { input: { callId: id, to: '+15557009999', toChannel: 'PSTN' } })).data!
      .transferCall;
    expect(transfer).toMatchObject({ userErrors: [], call: { transferredTo: '+15557009999', transferredToChannel: 'PSTN' } });
    expect(twirp('SIP/CreateSIPParticipant').at(-1)!.body).toMatchObject({ sipCallTo: '+15557009999', roomName: id });
    expect(twirp('RoomService/RemoveParticipant').at(-1)!.body).toMatchObject({ room: id, identity: 'bob' });

    const hangup = (await gql(gw.url, app.liveKey, HangupCallDocument, { input: { callId: id } })).data!.hangupCall;
    expect(hangup).toMatchObject({ userErrors: [], call: { status: 'COMPLETED', endReason: 'HANGUP', hangupSource: 'API' } });
    expect(twirp('RoomService/DeleteRoom').at(-1)!.body).toEqual({ room: id });
  });

  it.each([
    ['sendToVoicemail', SendToVoicemailDocument, {}, /no voicemail/],
    ['holdCall with music', HoldCallDocument, { musicUrl: 'https://example.com/m.mp3' }, /held in silence/],
    ['startRecording as WEBM', StartRecordingDocument, { format: 'WEBM' }, /records OGG, MP4 or MP3, not WEBM/],
  ] as const)('%s is COMMAND_NOT_ALLOWED with the reason, and nothing is sent to LiveKit', async (_name, document, extra, message) => {
    const id = await inProgress();
    const sent = lk.requests.length;
    const before = await commandRowCounts(gw.database, id);
    const { data } = await gql(gw.url, app.liveKey, document as typeof HoldCallDocument, { input: { callId: id, ...extra } as { callId: string } });
    const payload = Object.values(data!)[0] as { command: unknown; userErrors: { code: string; message: string }[] };
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', message: expect.stringMatching(message) })]);
    expect(lk.requests.length).toBe(sent);
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
  });

  it("LiveKit refusing the room: PROVIDER_ERROR with LiveKit's message, and the call ends FAILED", async () => {
    lk.failNext(/CreateRoom$/, { status: 400, body: { code: 'invalid_argument', msg: 'room name is too long' } });
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: 'alice', fromChannel: 'WEBRTC', to: 'bob', toChannel: 'WEBRTC' } });
    expect(data!.createCall.userErrors).toEqual([
      { code: 'PROVIDER_ERROR', field: ['input', 'toChannel'], message: 'livekit: room name is too long (invalid_argument)' },
    ]);
    expect(data!.createCall.call).toMatchObject({ status: 'FAILED', endReason: 'PROVIDER_ERROR' });
  });

  it('muting a party that is not in the room: PROVIDER_ERROR, the command FAILED', async () => {
    const id = await webrtcCall('frank');
    lk.join(id, 'alice');
    await joined(id, 'frank');
    await until(id, 'IN_PROGRESS');
    const mute = (await gql(gw.url, app.liveKey, MuteCallDocument, { input: { callId: id, leg: 'TO' } })).data!.muteCall;
    expect(mute.userErrors[0]).toMatchObject({ code: 'PROVIDER_ERROR', message: 'livekit: participant does not exist (not_found)' });
    expect(mute.command).toMatchObject({ status: 'FAILED' });
    expect(mute.call!.mutedLegs).toEqual([]);
  });
});

describe('createCallToken', () => {
  it('refuses bad input, unknown, ended and room-less calls with a code and a field', async () => {
    const id = await webrtcCall('gina');
    const ask = async (input: Record<string, unknown>, key = app.liveKey) =>
      (await gql(gw.url, key, CreateCallTokenDocument, { input: { callId: id, participantIdentity: 'gina', ...input } as never })).data!.createCallToken;
    expect((await ask({ ttl: 59 })).userErrors).toEqual([expect.objectContaining({ code: 'INVALID_ARGUMENT', field: ['input', 'ttl'] })]);
    expect((await ask({ ttl: 86_401 })).userErrors).toEqual([expect.objectContaining({ code: 'INVALID_ARGUMENT', field: ['input', 'ttl'] })]);
    expect((await ask({ participantIdentity: 'has space' })).userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID_ADDRESS', field: ['input', 'participantIdentity'] }),
    ]);
    expect((await ask({ callId: 'call_000000000000000000000000000' })).userErrors).toEqual([expect.objectContaining({ code: 'CALL_NOT_FOUND' })]);
    expect((await ask({}, app.testKey)).userErrors).toEqual([expect.objectContaining({ code: 'CALL_NOT_FOUND' })]);
    expect((await ask({ ttl: 60 })).token).toBeTruthy();
    expect((await ask({ ttl: 86_400 })).token).toBeTruthy();

    await gql(gw.url, app.liveKey, HangupCallDocument, { input: { callId: id } });
    await until(id, 'CANCELED');
    expect((await ask({})).userErrors).toEqual([expect.objectContaining({ code: 'CALL_NOT_ACTIVE' })]);

    const pstn = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!.id;
    const refused = (await gql(gw.url, app.testKey, CreateCallTokenDocument, { input: { callId: pstn, participantIdentity: 'x' } })).data!.createCallToken;
    expect(refused).toMatchObject({ token: null, userErrors: [{ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'] }] });
  });

  it("an access token joins as the identity it was minted with, or without one as anybody but the call's parties (HTTP and WebSocket)", async () => {
    const CREATE_TOKEN = `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token userErrors { code field } } }`;
    const JOIN = `mutation($input: CreateCallTokenInput!) { createCallToken(input: $input) { token roomName userErrors { code field message } } }`;
    const mint = async (input: Record<string, unknown>) => {
      const minted = (await rawGql(gw.url, app.liveKey, { query: CREATE_TOKEN, variables: { input: { scopes: ['CALLS_COMMAND'], ...input } } })).data
        .createAccessToken;
      expect(minted.userErrors).toEqual([]);
      return minted.token as string;
    };
    // A SIP leg's identity is not a browser's to take, even at minting.
    for (const identity of ['sip:15550001111', 'sip_15550001111', 'whatsapp:15550001111', 'SIP_15550001111']) {
      const refused = (
        await rawGql(gw.url, app.liveKey, { query: CREATE_TOKEN, variables: { input: { scopes: ['CALLS_COMMAND'], participantIdentity: identity } } })
      ).data.createAccessToken;
      expect(refused).toEqual({ token: null, userErrors: [{ code: 'IDENTITY_NOT_ALLOWED', field: ['input', 'participantIdentity'] }] });
    }
    const id = await webrtcCall('desk-9');
    const over = {
      http: async (credential: string, participantIdentity: string) =>
        (await rawGql(gw.url, credential, { query: JOIN, variables: { input: { callId: id, participantIdentity } } })).data.createCallToken,
      ws: async (credential: string, participantIdentity: string) => {
        const holder = wsClient(gw.wsUrl, credential);
        try {
          return (await wsRequest(holder, JOIN, { input: { callId: id, participantIdentity } })).data.createCallToken;
        } finally {
          await holder.dispose();
        }
      },
    };
    const unpinned = await mint({});
    const pinned = await mint({ participantIdentity: 'desk-9' });
    const before = twirp('RoomService/.*').length;
    for (const ask of [over.http, over.ws]) {
      // Without a pinned identity: the callee, the caller and the legs the gateway dials are refused.
      for (const identity of ['desk-9', 'alice', 'sip:15550001111', 'sip_15550001111', 'whatsapp:15550001111']) {
        const refused = await ask(unpinned, identity);
        expect(refused, identity).toMatchObject({ token: null, userErrors: [{ code: 'IDENTITY_NOT_ALLOWED', field: ['input', 'participantIdentity'] }] });
      }
      // Any other identity (a supervisor) joins.
      const supervisor = await ask(unpinned, 'supervisor-1');
      expect(supervisor).toMatchObject({ roomName: id, userErrors: [] });
      expect((await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(supervisor.token)).sub).toBe('supervisor-1');
      // Pinned: that identity only, the callee's included.
      const desk = await ask(pinned, 'desk-9');
      expect(desk).toMatchObject({ roomName: id, userErrors: [] });
      expect((await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(desk.token)).sub).toBe('desk-9');
      expect(await ask(pinned, 'supervisor-1')).toMatchObject({ token: null, userErrors: [{ code: 'IDENTITY_NOT_ALLOWED' }] });
      // The backend's secret key takes any identity.
      expect(await ask(app.liveKey, 'alice')).toMatchObject({ roomName: id, userErrors: [] });
    }
    // A refusal calls LiveKit for nothing (a token is signed locally, the room is not touched).
    expect(twirp('RoomService/.*').length).toBe(before);
  });

  it('a test call never gets a token for the live LiveKit server: refused without a sandbox, signed by the sandbox with one', async () => {
    const create = async (url: string, key: string) =>
      (await gql(url, key, CreateCallDocument, { input: { from: 'alice', fromChannel: 'WEBRTC', to: 'bob', toChannel: 'WEBRTC' } })).data!.createCall.call!.id;
    const id = await create(gw.url, app.testKey);
    const refused = (await gql(gw.url, app.testKey, CreateCallTokenDocument, { input: { callId: id, participantIdentity: 'bob' } })).data!.createCallToken;
    expect(refused).toMatchObject({
      token: null,
      userErrors: [{ code: 'PROVIDER_NOT_CONFIGURED', field: ['input', 'callId'], message: expect.stringMatching(/sandbox/) }],
    });

    const sandbox = await bootGateway({
      env: lk.env({
        LIVEKIT_SANDBOX_URL: 'wss://sandbox.lk.invalid',
        LIVEKIT_SANDBOX_API_KEY: 'APIsandbox',
        LIVEKIT_SANDBOX_API_SECRET: 'sandbox-secret-sandbox-secret-sandbox',
      }),
    });
    try {
      const other = await newApp(sandbox.admin);
      const testCall = await create(sandbox.url, other.testKey);
      const token = (await gql(sandbox.url, other.testKey, CreateCallTokenDocument, { input: { callId: testCall, participantIdentity: 'bob' } })).data!
        .createCallToken;
      expect(token).toMatchObject({ roomName: testCall, serverUrl: 'wss://sandbox.lk.invalid', userErrors: [] });
      expect((await new TokenVerifier('APIsandbox', 'sandbox-secret-sandbox-secret-sandbox').verify(token.token!)).video!.room).toBe(testCall);
      await expect(new TokenVerifier(lk.apiKey, lk.apiSecret).verify(token.token!)).rejects.toThrow();
    } finally {
      await sandbox.stop();
    }
  });
});

describe('the LiveKit webhook endpoint refuses what LiveKit did not sign', () => {
  it('100 tampered, foreign-signed or unsigned webhooks: 401 each, and no state change', async () => {
    const id = await webrtcCall('hank');
    const before = await commandRowCounts(gw.database, id);
    const event = { event: 'participant_joined', room: { name: id }, participant: { identity: 'hank' } };
    const attempts: Promise<number>[] = [];
    for (let i = 0; i < 25; i++) {
      attempts.push(lk.send(webhookUrl, event, { tamper: true }));
      attempts.push(lk.send(webhookUrl, event, { secret: 'not-the-secret-not-the-secret-not' }));
      attempts.push(lk.send(webhookUrl, event, { key: 'APIunknown' }));
      attempts.push(
        fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/webhook+json' }, body: JSON.stringify(event) }).then((r) => r.status),
      );
    }
    const statuses = await Promise.all(attempts);
    expect(statuses).toHaveLength(100);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect((await state(id)).status).toBe('RINGING');
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
  });
});

describe('LiveKit configuration', () => {
  it('a half-configured LiveKit stops the gateway at start, naming the missing variable', () => {
    expect(() => loadConfig({ LIVEKIT_URL: 'https://lk.example' })).toThrow(/LIVEKIT_API_KEY is missing/);
    expect(() => loadConfig({ LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' })).toThrow(/LIVEKIT_URL is missing/);
  });
});

describe('createCall options on calls in a LiveKit room', () => {
  it('a PSTN callee (LiveKit SIP): ringTimeout, timeLimit and callerName become ringingTimeout, maxCallDuration and displayName; the SIP leg ending at the limit is time_limit', async () => {
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, {
      input: { from: 'alice', fromChannel: 'WEBRTC', to: '+15557004321', toChannel: 'PSTN', ringTimeout: 20, timeLimit: 30, callerName: 'Alice' },
    });
    expect(data!.createCall.userErrors).toEqual([]);
    const id = data!.createCall.call!.id;
    // Protobuf's JSON of the durations: seconds with an "s".
    expect(twirp('SIP/CreateSIPParticipant').at(-1)!.body).toMatchObject({
      sipCallTo: '+15557004321',
      ringingTimeout: '20s',
      maxCallDuration: '30s',
      displayName: 'Alice',
    });
    const sip = { identity: 'sip:+15557004321', sid: 'PA_9', attributes: { 'sip.callStatus': 'active' } };
    await lk.send(webhookUrl, { event: 'participant_joined', room: { name: id, sid: 'RM_9' }, participant: sip });
    await until(id, 'IN_PROGRESS');
    // LiveKit ends the SIP leg at maxCallDuration: it leaves the room then.
    await gw.database.sql.query(`UPDATE call SET answered_at = now() - interval '30 seconds' WHERE id = $1`, [id]);
    await lk.send(webhookUrl, { event: 'participant_left', room: { name: id, sid: 'RM_9' }, participant: sip });
    expect(await until(id, 'COMPLETED')).toMatchObject({ endReason: 'TIME_LIMIT', hangupSource: 'SYSTEM' });
  });

  it('sendDtmf is refused in a room, with why, and nothing is sent', async () => {
    const id = await inProgress();
    const requests = lk.requests.length;
    const { data } = await gql(gw.url, app.liveKey, SendDtmfDocument, { input: { callId: id, digits: '1' } });
    expect(data!.sendDtmf.userErrors).toEqual([{ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'], message: expect.stringMatching(/publishDtmf/) }]);
    expect(lk.requests.length).toBe(requests);
  });

  it.each([
    ['WEBRTC', 'bob', { ringTimeout: 20 }, 'ringTimeout', /not dialed/],
    ['WEBRTC', 'bob', { timeLimit: 60 }, 'timeLimit', /SIP calls only/],
    ['WEBRTC', 'bob', { callerName: 'Alice' }, 'callerName', /no caller name/],
    ['PSTN', '+15557004322', { machineDetection: 'DETECT' }, 'machineDetection', /no answering-machine detection/],
  ] as const)('to %s with %j: COMMAND_NOT_ALLOWED on input.%s with why; nothing stored, LiveKit not asked', async (toChannel, to, options, field, why) => {
    const requests = lk.requests.length;
    const before = (await gw.database.sql.query<{ n: string }>(`SELECT count(*) AS n FROM call WHERE app_id = $1`, [app.id]))[0]!.n;
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: 'alice', fromChannel: 'WEBRTC', to, toChannel, ...options } });
    expect(data!.createCall.call).toBeNull();
    expect(data!.createCall.userErrors).toEqual([{ code: 'COMMAND_NOT_ALLOWED', field: ['input', field], message: expect.stringMatching(why) }]);
    expect(lk.requests.length).toBe(requests);
    expect((await gw.database.sql.query<{ n: string }>(`SELECT count(*) AS n FROM call WHERE app_id = $1`, [app.id]))[0]!.n).toBe(before);
  });
});
