import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from 'livekit-server-sdk';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { commandRowCounts, eventually, gql, listenersRegistered, newApp } from './helpers/gateway.js';
import { TelnyxHarness } from './helpers/telnyx.js';
import { collect, wsClient } from './helpers/ws.js';
import { FakeLiveKit } from './fakes/livekit-server.js';
import {
  AnswerCallDocument,
  CreateCallTokenDocument,
  HangupCallDocument,
  HoldCallDocument,
  MuteCallDocument,
  SendToVoicemailDocument,
  SetNumberRoutingDocument,
  StartRecordingDocument,
  TransferCallDocument,
} from './gql/graphql.js';

// An inbound PSTN call taken by a browser. Neither provider is reachable from here: Telnyx runs
// through the `telnyx` SDK against FakeTelnyx, LiveKit through livekit-server-sdk against
// FakeLiveKit, whose SIP service takes the INVITE that Telnyx's transfer sends (sipInvite: a
// callee dispatch rule picks the room; the caller joins as `sip_<number>`).
let lk: FakeLiveKit;
let t: TelnyxHarness;
let webhookUrl: string;

beforeAll(async () => {
  lk = await new FakeLiveKit().start();
  t = await TelnyxHarness.start(lk.env({ LIVEKIT_SIP_URI: `sip:${lk.sipHost}`, LIVEKIT_SIP_INBOUND_TRUNK_ID: 'ST_fromTelnyx' }));
  webhookUrl = t.gw.url.replace(/\/graphql$/, '/webhooks/livekit');
});
afterAll(async () => {
  await t?.stop();
  await lk?.stop();
});

const twirp = (method: string) => lk.to(new RegExp(`/twirp/livekit\\.${method}$`));
/** Runs one command mutation; its payload. */
const run = async (document: TypedDocumentNode<Record<string, unknown>, { input: never }>, input: Record<string, unknown>) => {
  const { data, errors } = await gql(t.gw.url, t.app.liveKey, document, { input } as { input: never });
  expect(errors).toBeUndefined();
  return Object.values(data as Record<string, any>)[0] as any;
};

/** An inbound call from `from`, answered by the application: IN_PROGRESS on Telnyx. */
async function answeredInbound(from: string): Promise<{ id: string; ccid: string }> {
  const call = await t.incoming(from);
  expect(await run(AnswerCallDocument, { callId: call.id })).toMatchObject({ userErrors: [], call: { status: 'IN_PROGRESS' } });
  return call;
}

describe("the gateway's SIP dispatch rule", () => {
  it("one of its name on another trunk, or with a room prefix, is replaced before the first transfer: the caller lands in the call's room", async () => {
    const name = 'calls-gateway: room = called SIP user (the call id)';
    const other = await new FakeLiveKit().start();
    other.dispatchRules.push(
      { sipDispatchRuleId: 'SDR_otherTrunk', name, trunkIds: ['ST_someoneElse'], rule: { dispatchRuleCallee: { roomPrefix: '' } } },
      { sipDispatchRuleId: 'SDR_prefixed', name, trunkIds: [other.sipInboundTrunkId], rule: { dispatchRuleCallee: { roomPrefix: 'stale-' } } },
    );
    const harness = await TelnyxHarness.start(other.env({ LIVEKIT_SIP_URI: `sip:${other.sipHost}`, LIVEKIT_SIP_INBOUND_TRUNK_ID: other.sipInboundTrunkId }));
    try {
      const caller = '+15559990177';
      const call = await harness.incoming(caller);
      const answer = (await gql(harness.gw.url, harness.app.liveKey, AnswerCallDocument, { input: { callId: call.id } })).data!.answerCall;
      expect(answer.userErrors).toEqual([]);
      const transfer = (
        await gql(harness.gw.url, harness.app.liveKey, TransferCallDocument, { input: { callId: call.id, to: 'agent-8', toChannel: 'WEBRTC' } })
      ).data!.transferCall;
      expect(transfer).toMatchObject({ userErrors: [], command: { status: 'APPLIED' } });
      // Both stale rules are gone; one rule remains, exactly the gateway's.
      expect(
        other
          .to(/SIP\/DeleteSIPDispatchRule$/)
          .map((request) => (request.body as { sipDispatchRuleId: string }).sipDispatchRuleId)
          .sort(),
      ).toEqual(['SDR_otherTrunk', 'SDR_prefixed']);
      expect(other.dispatchRules).toEqual([expect.objectContaining({ name, trunkIds: [other.sipInboundTrunkId], rule: { dispatchRuleCallee: {} } })]);
      const sent = harness.action(call.ccid, 'transfer').at(-1)!.body as { to: string; from: string };
      expect(other.sipInvite(sent.to, sent.from)).toEqual({ room: call.id, identity: `sip_${caller}` });
    } finally {
      await harness.stop();
      await other.stop();
    }
  });

  it('one that is already right is kept: nothing deleted, nothing created', async () => {
    // The suite's gateway made its rule at its first transfer; a second gateway on the same LiveKit finds it.
    const made = lk.dispatchRules.length ? null : await answeredInbound('+15559990178');
    if (made) await run(TransferCallDocument, { callId: made.id, to: 'agent-9', toChannel: 'WEBRTC' });
    expect(lk.dispatchRules).toHaveLength(1);
    const second = await TelnyxHarness.start(lk.env({ LIVEKIT_SIP_URI: `sip:${lk.sipHost}`, LIVEKIT_SIP_INBOUND_TRUNK_ID: 'ST_fromTelnyx' }));
    try {
      const creates = twirp('SIP/CreateSIPDispatchRule').length;
      const call = await second.incoming('+15559990179');
      await gql(second.gw.url, second.app.liveKey, AnswerCallDocument, { input: { callId: call.id } });
      const transfer = (await gql(second.gw.url, second.app.liveKey, TransferCallDocument, { input: { callId: call.id, to: 'agent-10', toChannel: 'WEBRTC' } }))
        .data!.transferCall;
      expect(transfer).toMatchObject({ userErrors: [], command: { status: 'APPLIED' } });
      expect(twirp('SIP/CreateSIPDispatchRule')).toHaveLength(creates);
      expect(twirp('SIP/DeleteSIPDispatchRule')).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });
});

describe('an inbound PSTN call transferred to a WebRTC identity (Telnyx → LiveKit over SIP)', () => {
  it('goes into a room named after the call, which the browser joins with a token; room commands act there, hangup at Telnyx', async () => {
    const caller = '+15559990101';
    const { id, ccid } = await answeredInbound(caller);
    const client = wsClient(t.gw.wsUrl, t.app.liveKey);
    try {
      const before = t.gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription($id: ID!) { callStatus(callId: $id) { kind call { transferredTo livekitRoomName } } }`, { id });
      await listenersRegistered(t.gw, before + 1);

      const transfer = await run(TransferCallDocument, { callId: id, to: 'agent-7', toChannel: 'WEBRTC' });
      expect(transfer).toMatchObject({
        userErrors: [],
        command: { status: 'APPLIED' },
        call: { status: 'IN_PROGRESS', transferredTo: 'agent-7', transferredToChannel: 'WEBRTC', livekitRoomName: id },
      });
      // The gateway's dispatch rule: room = "" + the called SIP user, on the inbound trunk; the room made first.
      expect(twirp('SIP/CreateSIPDispatchRule')).toHaveLength(1);
      expect(lk.dispatchRules[0]).toMatchObject({ trunkIds: ['ST_fromTelnyx'], rule: { dispatchRuleCallee: {} } });
      expect(twirp('RoomService/CreateRoom').at(-1)!.body).toMatchObject({ name: id, metadata: JSON.stringify({ callId: id }) });
      const sent = t.action(ccid, 'transfer').at(-1)!.body as { to: string; from: string; command_id: string };
      expect(sent).toMatchObject({ to: `sip:${id}@${lk.sipHost}`, from: caller, command_id: transfer.command.id });

      // Telnyx's new leg reaches LiveKit; the caller is in the call's room.
      expect(lk.sipInvite(sent.to, sent.from)).toEqual({ room: id, identity: `sip_${caller}` });
      const events = await sub.until((items) => items.some((item) => item.kind === 'TRANSFERRED'));
      expect(events.find((item) => item.kind === 'TRANSFERRED')!.call).toEqual({ transferredTo: 'agent-7', livekitRoomName: id });
      sub.stop();

      // The browser's token: for this room and this identity only.
      const token = (await gql(t.gw.url, t.app.liveKey, CreateCallTokenDocument, { input: { callId: id, participantIdentity: 'agent-7' } })).data!
        .createCallToken;
      expect(token).toMatchObject({ userErrors: [], roomName: id });
      const grants = await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(token.token!);
      expect(grants).toMatchObject({ sub: 'agent-7', video: { room: id, roomJoin: true } });
      lk.join(id, 'agent-7');

      // Mute, hold, recording: on the room's parties, not at Telnyx.
      const telnyxBefore = t.telnyx.requests.length;
      expect(await run(MuteCallDocument, { callId: id, leg: 'FROM' })).toMatchObject({ userErrors: [], call: { mutedLegs: ['FROM'] } });
      expect(twirp('RoomService/MutePublishedTrack').at(-1)!.body).toMatchObject({ room: id, identity: `sip_${caller}`, muted: true });
      expect(await run(MuteCallDocument, { callId: id, leg: 'TO' })).toMatchObject({ userErrors: [], call: { mutedLegs: ['FROM', 'TO'] } });
      expect(twirp('RoomService/MutePublishedTrack').at(-1)!.body).toMatchObject({ room: id, identity: 'agent-7', muted: true });
      expect(await run(HoldCallDocument, { callId: id })).toMatchObject({ userErrors: [], call: { onHold: true } });
      expect(twirp('RoomService/UpdateParticipant').at(-1)!.body).toMatchObject({
        room: id,
        identity: `sip_${caller}`,
      });
      // Protobuf's JSON leaves false out: publish and subscribe are taken away.
      expect(twirp('RoomService/UpdateParticipant').at(-1)!.body.permission).toEqual({ canPublishData: true });
      const recording = await run(StartRecordingDocument, { callId: id, format: 'OGG' });
      expect(recording).toMatchObject({ userErrors: [], call: { recording: true } });
      expect(twirp('Egress/StartRoomCompositeEgress').at(-1)!.body).toMatchObject({ roomName: id, audioOnly: true });
      expect(t.telnyx.requests.length).toBe(telnyxBefore);
      // The room's egress tells LiveKit's webhook that the recording is saved, though Telnyx carries the call.
      const egressId = [...lk.egresses.values()].find((egress) => egress.roomName === id)!.egressId;
      expect(
        await lk.send(webhookUrl, {
          event: 'egress_ended',
          egressInfo: {
            egressId,
            roomName: id,
            status: 'EGRESS_COMPLETE',
            fileResults: [{ location: 'https://files.example/rec.ogg', duration: '9000000000' }],
          },
        }),
      ).toBe(200);
      await eventually(async () => (await t.state(id)).recordings[0]?.status === 'SAVED', 10_000, 'the saved recording');
      expect((await t.state(id)).recordings[0]).toMatchObject({ format: 'OGG', duration: 9 });

      // What a room cannot do is refused, and changes nothing (no command, no request).
      const rows = await commandRowCounts(t.gw.database, id);
      const lkBefore = lk.requests.length;
      for (const [document, input, reason] of [
        [TransferCallDocument, { callId: id, to: '+15554443333' }, /another WEBRTC identity only/],
        [SendToVoicemailDocument, { callId: id }, /no voicemail/],
      ] as const) {
        const refused = await run(document, input);
        expect(refused.userErrors).toEqual([{ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'], message: expect.stringMatching(reason) }]);
      }
      expect(await commandRowCounts(t.gw.database, id)).toEqual(rows);
      expect(lk.requests.length).toBe(lkBefore);
      expect(t.telnyx.requests.length).toBe(telnyxBefore);

      // Another identity takes over in the room: the previous one is let go; Telnyx is not asked again.
      const again = await run(TransferCallDocument, { callId: id, to: 'agent-8', toChannel: 'WEBRTC' });
      expect(again).toMatchObject({ userErrors: [], call: { transferredTo: 'agent-8', livekitRoomName: id } });
      expect(twirp('RoomService/RemoveParticipant').at(-1)!.body).toMatchObject({ room: id, identity: 'agent-7' });
      expect(t.action(ccid, 'transfer')).toHaveLength(1);
      expect(twirp('SIP/CreateSIPDispatchRule')).toHaveLength(1);

      // Hangup: Telnyx ends the call; the room goes with it.
      const hangup = await run(HangupCallDocument, { callId: id });
      expect(hangup).toMatchObject({ userErrors: [], call: { status: 'COMPLETED' } });
      expect(t.action(ccid, 'hangup').at(-1)!.body).toMatchObject({ command_id: hangup.command.id });
      expect(twirp('RoomService/DeleteRoom').at(-1)!.body).toEqual({ room: id });
      expect(lk.rooms.has(id)).toBe(false);
    } finally {
      await client.dispose();
    }
  });

  /** An answered inbound call transferred to `identity`, who joined its room. */
  async function takenByBrowser(from: string, identity: string): Promise<{ id: string; ccid: string }> {
    const call = await answeredInbound(from);
    const transfer = await run(TransferCallDocument, { callId: call.id, to: identity, toChannel: 'WEBRTC' });
    expect(transfer.userErrors).toEqual([]);
    const sent = t.action(call.ccid, 'transfer').at(-1)!.body as { to: string; from: string };
    lk.sipInvite(sent.to, sent.from);
    lk.join(call.id, identity);
    return call;
  }
  const leftRoom = (room: string, identity: string, disconnectReason?: string) =>
    lk.send(webhookUrl, {
      event: 'participant_left',
      room: { name: room, sid: 'RM_B' },
      participant: { identity, sid: 'PA_B', ...(disconnectReason ? { disconnectReason } : {}) },
    });

  it('the caller hanging up lets the browser go: the call ends at Telnyx and its room is deleted', async () => {
    const { id, ccid } = await takenByBrowser('+15559990111', 'agent-9');
    expect(lk.rooms.has(id)).toBe(true);
    await t.telnyx.send(t.hook, 'call.hangup', { call_control_id: ccid, hangup_cause: 'normal_clearing', hangup_source: 'caller' });
    expect(await t.until(id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP', hangupSource: 'CALLER' });
    await eventually(() => !lk.rooms.has(id), 5_000, 'the room to be deleted');
    expect(twirp('RoomService/DeleteRoom').at(-1)!.body).toEqual({ room: id });
  });

  it('the browser leaving ends the call (COMPLETED by the callee): the caller is hung up at Telnyx, not left alone in the room', async () => {
    const { id, ccid } = await takenByBrowser('+15559990112', 'agent-10');
    expect(await leftRoom(id, 'agent-10', 'CLIENT_INITIATED')).toBe(200);
    expect(await t.until(id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP', hangupSource: 'CALLEE' });
    await eventually(() => t.action(ccid, 'hangup').length === 1, 5_000, 'the caller to be hung up');
    expect(t.action(ccid, 'hangup')[0]!.body).toMatchObject({ command_id: `browser-left-${id}` });
    await eventually(() => !lk.rooms.has(id), 5_000, 'the room to be deleted');
  });

  it('a browser the gateway removed (a transfer to another identity) or the caller leaving the room does not end the call', async () => {
    const { id, ccid } = await takenByBrowser('+15559990113', 'agent-11');
    expect(await leftRoom(id, 'agent-11', 'PARTICIPANT_REMOVED')).toBe(200);
    expect(await leftRoom(id, 'sip_+15559990113')).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await t.state(id)).status).toBe('IN_PROGRESS');
    expect(t.action(ccid, 'hangup')).toHaveLength(0);
    await run(HangupCallDocument, { callId: id });
  });

  it('the room comes first: when LiveKit cannot create it, Telnyx is not asked to transfer and the call is unchanged', async () => {
    const { id, ccid } = await answeredInbound('+15559990102');
    lk.failNext(/CreateRoom$/, { status: 503, body: { code: 'unavailable', msg: 'try later' } });
    const result = await run(TransferCallDocument, { callId: id, to: 'agent-7', toChannel: 'WEBRTC' });
    expect(result.userErrors).toEqual([expect.objectContaining({ code: 'PROVIDER_ERROR' })]);
    expect(t.action(ccid, 'transfer')).toHaveLength(0);
    expect(await t.state(id)).toMatchObject({ status: 'IN_PROGRESS', transferredTo: null, livekitRoomName: null });
  });

  it('an outbound Telnyx call is not transferred to WebRTC: refused before any provider is asked', async () => {
    const call = await t.answered('+15551230777');
    const rows = await commandRowCounts(t.gw.database, call.id);
    const lkBefore = lk.requests.length;
    const refused = await run(TransferCallDocument, { callId: call.id, to: 'agent-7', toChannel: 'WEBRTC' });
    expect(refused.userErrors).toEqual([
      { code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'], message: expect.stringMatching(/Only an inbound PSTN call/) },
    ]);
    expect(await commandRowCounts(t.gw.database, call.id)).toEqual(rows);
    expect(lk.requests.length).toBe(lkBefore);
    expect(t.action(call.ccid, 'transfer')).toHaveLength(0);
  });

  it('a number routed RING_WEBRTC: an arriving call goes into its room at once, and the TRANSFERRED event says which room and identity', async () => {
    const own = await newApp(t.gw.admin);
    const set = (await gql(t.gw.url, own.liveKey, SetNumberRoutingDocument, { input: { number: own.number, routing: 'RING_WEBRTC', identity: 'desk-7' } }))
      .data!.setNumberRouting;
    expect(set.userErrors).toEqual([]);
    const client = wsClient(t.gw.wsUrl, own.liveKey);
    try {
      const before = t.gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus { kind status call { id transferredTo livekitRoomName } } }`, {});
      await listenersRegistered(t.gw, before + 1);
      const { ccid } = await t.telnyx.incoming(t.hook, '+15559990303', own.number);
      const events = await sub.until((items) => items.some((item) => item.kind === 'TRANSFERRED'));
      sub.stop();
      const call = (await t.gw.gateway.lifecycle.findCall({ provider: 'telnyx', providerCallId: ccid }))!;
      expect(events.find((item) => item.kind === 'TRANSFERRED')).toEqual({
        kind: 'TRANSFERRED',
        status: 'RINGING',
        call: { id: call.id, transferredTo: 'desk-7', livekitRoomName: call.id },
      });
      // The room first, then Telnyx's transfer to it over SIP.
      expect(twirp('RoomService/CreateRoom').at(-1)!.body).toMatchObject({ name: call.id });
      const sent = t.action(ccid, 'transfer').at(-1)!.body as { to: string; from: string };
      expect(sent).toMatchObject({ to: `sip:${call.id}@${lk.sipHost}`, from: '+15559990303' });
      expect(lk.sipInvite(sent.to, sent.from)).toEqual({ room: call.id, identity: 'sip_+15559990303' });
      const token = (await gql(t.gw.url, own.liveKey, CreateCallTokenDocument, { input: { callId: call.id, participantIdentity: 'desk-7' } })).data!
        .createCallToken;
      expect(token).toMatchObject({ userErrors: [], roomName: call.id });
      // LiveKit's SIP service takes the call into the room at once (Telnyx: call.bridged), before
      // anyone is there: the call still rings until the browser joins.
      await t.telnyx.send(t.hook, 'call.bridged', { call_control_id: ccid });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const status = async (): Promise<string> => (await t.gw.gateway.lifecycle.findCall({ callId: call.id }))!.status;
      expect(await status()).toBe('ringing');
      lk.join(call.id, 'desk-7');
      expect(
        await lk.send(webhookUrl, { event: 'participant_joined', room: { name: call.id, sid: 'RM_R' }, participant: { identity: 'desk-7', sid: 'PA_R' } }),
      ).toBe(200);
      await eventually(async () => (await status()) === 'in_progress', 10_000, 'the browser to answer');
      expect((await t.gw.gateway.lifecycle.findCall({ callId: call.id }))!.answeredAt).not.toBeNull();
    } finally {
      await client.dispose();
    }
  });
});
