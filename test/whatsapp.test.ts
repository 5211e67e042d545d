import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
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
import { collect, wsClient, wsRequest } from './helpers/ws.js';
import { FakeLiveKit } from './fakes/livekit-server.js';
import { FakeMeta } from './fakes/meta-server.js';
import { TokenVerifier } from 'livekit-server-sdk';
import { AnswerCallDocument, CallStateDocument, CreateCallDocument, CreateCallTokenDocument, RejectCallDocument } from './gql/graphql.js';

// Neither Meta nor LiveKit is reachable from here: WhatsApp legs go through livekit-server-sdk's
// ConnectorClient to FakeLiveKit (Twirp, verified tokens), Meta's Graph API is FakeMeta, and Meta's
// webhooks are signed with a real app secret.
let lk: FakeLiveKit;
let meta: FakeMeta;
let gw: TestGateway;
let app: TestApp;
let webhookUrl: string;
const SDP_OFFER = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const SDP_ANSWER = 'v=0\r\no=- 1 2 IN IP4 157.240.0.1\r\ns=-\r\nt=0 0\r\nm=audio 3480 UDP/TLS/RTP/SAVPF 111\r\n';

beforeAll(async () => {
  lk = await new FakeLiveKit().start();
  meta = await new FakeMeta().start();
  // The business number must be an application's number: boot, then assign it.
  const businessNumber = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  gw = await bootGateway({ env: { ...lk.env(), ...meta.env(businessNumber), PUBLIC_URL: 'https://gateway.example.test' } });
  app = await newApp(gw.admin);
  await gw.admin.assignNumber(app.id, businessNumber);
  app = { ...app, number: businessNumber };
  webhookUrl = gw.url.replace(/\/graphql$/, '/webhooks/whatsapp');
});
afterAll(async () => {
  await gw.stop();
  await lk.stop();
  await meta.stop();
});

const state = async (id: string) => (await gql(gw.url, app.liveKey, CallStateDocument, { id })).data!.call!;
const until = async (id: string, status: string) => {
  let call = await state(id);
  await eventually(async () => (call = await state(id)).status === status, 10_000, `call ${id} to be ${status}`);
  return call;
};
const twirp = (method: string) => lk.to(new RegExp(`/twirp/livekit\\.${method}$`));

async function dialWhatsApp(fromChannel: 'WHATSAPP' | 'PSTN', to = '+15557002000'): Promise<{ id: string; wacid: string }> {
  const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, fromChannel, to, toChannel: 'WHATSAPP' } });
  expect(data!.createCall.userErrors).toEqual([]);
  const id = data!.createCall.call!.id;
  // The legs meet in the call's room (the connector is told so below), but the platform shows
  // livekitRoomName for WebRTC calls only.
  expect(data!.createCall.call!.livekitRoomName).toBeNull();
  return { id, wacid: (await gw.gateway.lifecycle.findCall({ callId: id }))!.providerCallId! };
}

describe("WhatsApp through LiveKit's WhatsApp connector and Meta's calling webhooks", () => {
  it("WHATSAPP → WHATSAPP: dialed through the connector, Meta's connect webhook completes the media, terminate ends it; in `call` and callStatus", async () => {
    const client = wsClient(gw.wsUrl, app.liveKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus(filter: {toAddress: "+15557002000"}) { status call { id } } }`, {});
      await listenersRegistered(gw, before + 1);
      const { id, wacid } = await dialWhatsApp('WHATSAPP');
      const dial = twirp('Connector/DialWhatsAppCall').at(-1)!;
      expect(dial.body).toMatchObject({
        whatsappPhoneNumberId: meta.phoneNumberId,
        whatsappToPhoneNumber: '15557002000',
        whatsappApiKey: meta.accessToken,
        whatsappCloudApiVersion: meta.apiVersion,
        whatsappBizOpaqueCallbackData: id,
        roomName: id,
        participantIdentity: 'whatsapp:+15557002000',
      });
      expect(wacid).toMatch(/^wacid\./);
      expect(await meta.send(webhookUrl, { statuses: [{ id: wacid, type: 'call', status: 'RINGING', biz_opaque_callback_data: id }] })).toBe(200);
      expect(
        await meta.send(webhookUrl, {
          calls: [
            { id: wacid, event: 'connect', direction: 'BUSINESS_INITIATED', session: { sdp_type: 'answer', sdp: SDP_ANSWER }, biz_opaque_callback_data: id },
          ],
        }),
      ).toBe(200);
      expect(twirp('Connector/ConnectWhatsAppCall').at(-1)!.body).toMatchObject({ whatsappCallId: wacid, sdp: { type: 'answer', sdp: SDP_ANSWER } });
      await until(id, 'IN_PROGRESS');
      await meta.send(webhookUrl, { calls: [{ id: wacid, event: 'terminate', direction: 'BUSINESS_INITIATED', status: 'COMPLETED', duration: 12 }] });
      expect(await until(id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP' });
      const events = await sub.until((items) => items.length >= 4);
      sub.stop();
      expect(events.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED']);
    } finally {
      await client.dispose();
    }
  });

  it('PSTN → WHATSAPP (cross-channel): the same room path; a REJECTED status ends it BUSY', async () => {
    const { id, wacid } = await dialWhatsApp('PSTN', '+15557002001');
    expect(twirp('Connector/DialWhatsAppCall').at(-1)!.body).toMatchObject({ whatsappToPhoneNumber: '15557002001', roomName: id });
    await meta.send(webhookUrl, { statuses: [{ id: wacid, type: 'call', status: 'REJECTED' }] });
    expect(await until(id, 'BUSY')).toMatchObject({ endReason: 'REJECTED' });
  });

  it('a call with a room but no WebRTC leg (PSTN → WHATSAPP): livekitRoomName stays null, and createCallToken joins its room, over HTTP and WebSocket', async () => {
    const { id } = await dialWhatsApp('PSTN', '+15557002009');
    const JOIN = `mutation($input: CreateCallTokenInput!) { createCallToken(input: $input) { token roomName userErrors { code } } }`;
    const input = { input: { callId: id, participantIdentity: 'agent-3' } };
    const typed = (await gql(gw.url, app.liveKey, CreateCallTokenDocument, input)).data!.createCallToken;
    const client = wsClient(gw.wsUrl, app.liveKey);
    try {
      const overWs = (await wsRequest(client, JOIN, input)).data.createCallToken;
      for (const answer of [typed, overWs]) {
        expect(answer).toMatchObject({ roomName: id, userErrors: [] });
        expect((await new TokenVerifier(lk.apiKey, lk.apiSecret).verify(answer.token!)).video).toMatchObject({ room: id, roomJoin: true });
      }
    } finally {
      await client.dispose();
    }
    expect((await state(id)).livekitRoomName).toBeNull();
  });

  it('numbers carry their WhatsApp id: a WHATSAPP from must be one, its leg dials from it, and calls to it ring its application', async () => {
    // A second business number of the application, with its own id in Meta's Cloud API.
    const second = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const secondId = String(200_000_000_000_000 + Math.floor(Math.random() * 1e12));
    await gw.admin.assignNumber(app.id, second, { whatsappPhoneNumberId: secondId });
    const numbers = (await rawGql(gw.url, app.liveKey, { query: `{ phoneNumbers { number channels whatsappPhoneNumberId } }` })).data.phoneNumbers;
    expect(numbers).toEqual(
      expect.arrayContaining([
        { number: app.number, channels: ['PSTN', 'WHATSAPP'], whatsappPhoneNumberId: meta.phoneNumberId }, // WHATSAPP_BUSINESS_NUMBER's
        { number: second, channels: ['PSTN', 'WHATSAPP'], whatsappPhoneNumberId: secondId },
      ]),
    );
    // Outbound from the second number: the connector is told to call from it, not from WHATSAPP_PHONE_NUMBER_ID.
    const placed = (
      await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: second, fromChannel: 'WHATSAPP', to: '+15557002010', toChannel: 'WHATSAPP' } })
    ).data!.createCall;
    expect(placed.userErrors).toEqual([]);
    expect(twirp('Connector/DialWhatsAppCall').at(-1)!.body).toMatchObject({ whatsappPhoneNumberId: secondId, whatsappBizOpaqueCallbackData: placed.call!.id });

    // A number of the application that is not a WhatsApp number: refused, nothing stored or dialed.
    const plain = `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    await gw.admin.assignNumber(app.id, plain);
    const dials = twirp('Connector/DialWhatsAppCall').length;
    const before = await rowCounts(gw.database, app.id);
    const refused = (
      await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: plain, fromChannel: 'WHATSAPP', to: '+15557002011', toChannel: 'WHATSAPP' } })
    ).data!.createCall;
    expect(refused).toMatchObject({ call: null, userErrors: [{ code: 'PHONE_NUMBER_NOT_ASSIGNED', field: ['input', 'from'] }] });
    expect(twirp('Connector/DialWhatsAppCall')).toHaveLength(dials);
    expect(await rowCounts(gw.database, app.id)).toEqual(before);

    // Inbound: Meta names the number called by its id; the call is to that number, and it is
    // accepted from it. An id no number carries rings nobody.
    const wacid = `wacid.second-${Date.now()}`;
    const offer = { id: wacid, from: '15559001007', event: 'connect', direction: 'USER_INITIATED', session: { sdp_type: 'offer', sdp: SDP_OFFER } };
    expect(await meta.send(webhookUrl, { metadata: { phone_number_id: secondId, display_phone_number: second.slice(1) }, calls: [offer] })).toBe(200);
    const inbound = (await gw.gateway.lifecycle.findCall({ provider: 'livekit', providerCallId: wacid }))!;
    expect(inbound).toMatchObject({ direction: 'inbound', toAddress: second, fromChannel: 'whatsapp' });
    await until(inbound.id, 'RINGING');
    await gql(gw.url, app.liveKey, AnswerCallDocument, { input: { callId: inbound.id } });
    expect(twirp('Connector/AcceptWhatsAppCall').at(-1)!.body).toMatchObject({ whatsappCallId: wacid, whatsappPhoneNumberId: secondId });
    const stray = `wacid.stray-${Date.now()}`;
    expect(await meta.send(webhookUrl, { metadata: { phone_number_id: '999999999' }, calls: [{ ...offer, id: stray }] })).toBe(200);
    expect(await gw.gateway.lifecycle.findCall({ provider: 'livekit', providerCallId: stray })).toBeNull();
  });

  it('an inbound WhatsApp call rings for the application owning the business number; answerCall accepts it through the connector', async () => {
    const wacid = `wacid.in-${Date.now()}`;
    expect(
      await meta.send(webhookUrl, {
        calls: [
          {
            id: wacid,
            from: '15559001000',
            to: app.number.slice(1),
            event: 'connect',
            direction: 'USER_INITIATED',
            session: { sdp_type: 'offer', sdp: SDP_OFFER },
          },
        ],
      }),
    ).toBe(200);
    const call = (await gw.gateway.lifecycle.findCall({ provider: 'livekit', providerCallId: wacid }))!;
    expect(call).toMatchObject({ direction: 'inbound', fromAddress: '+15559001000', toAddress: app.number, fromChannel: 'whatsapp', mode: 'live' });
    await until(call.id, 'RINGING');
    const answer = (await gql(gw.url, app.liveKey, AnswerCallDocument, { input: { callId: call.id } })).data!.answerCall;
    expect(answer).toMatchObject({ userErrors: [], command: { status: 'APPLIED' }, call: { status: 'IN_PROGRESS' } });
    expect(twirp('Connector/AcceptWhatsAppCall').at(-1)!.body).toMatchObject({
      whatsappCallId: wacid,
      whatsappPhoneNumberId: meta.phoneNumberId,
      sdp: { type: 'offer', sdp: SDP_OFFER },
      roomName: call.id,
      participantIdentity: 'whatsapp:+15559001000',
    });
    await meta.send(webhookUrl, { calls: [{ id: wacid, event: 'terminate', direction: 'USER_INITIATED', status: 'COMPLETED' }] });
    await until(call.id, 'COMPLETED');
  });

  it('a signed call offer replayed after the 24 h idempotency window makes no second call; an offer older than 5 minutes makes none at all', async () => {
    const wacid = `wacid.replay-${Date.now()}`;
    const offer = {
      id: wacid,
      from: '15559001002',
      to: app.number.slice(1),
      event: 'connect',
      direction: 'USER_INITIATED',
      session: { sdp_type: 'offer', sdp: SDP_OFFER },
    };
    expect(await meta.send(webhookUrl, { calls: [offer] })).toBe(200);
    const first = (await gw.gateway.lifecycle.findCall({ provider: 'livekit', providerCallId: wacid }))!;
    // A day and more later (the call's age is what an idempotency window compares).
    await gw.database.sql.query(`UPDATE call SET created_at = now() - interval '25 hours' WHERE id = $1`, [first.id]);
    expect(await meta.send(webhookUrl, { calls: [offer] })).toBe(200);
    const { rows } = await gw.database.sql.pool.query(`SELECT count(*)::int AS n FROM call WHERE from_address = '+15559001002'`);
    expect(rows[0].n).toBe(1);

    const stale = { ...offer, id: `wacid.stale-${Date.now()}`, from: '15559001003', timestamp: String(Math.floor(Date.now() / 1000) - 600) };
    expect(await meta.send(webhookUrl, { calls: [stale] })).toBe(200);
    expect(await gw.gateway.lifecycle.findCall({ provider: 'livekit', providerCallId: stale.id })).toBeNull();
    const { rows: none } = await gw.database.sql.pool.query(`SELECT count(*)::int AS n FROM call WHERE from_address = '+15559001003'`);
    expect(none[0].n).toBe(0);
  });

  it("rejectCall on an inbound WhatsApp call rejects it through Meta's Graph API", async () => {
    const wacid = `wacid.rej-${Date.now()}`;
    await meta.send(webhookUrl, {
      calls: [
        {
          id: wacid,
          from: '15559001001',
          to: app.number.slice(1),
          event: 'connect',
          direction: 'USER_INITIATED',
          session: { sdp_type: 'offer', sdp: SDP_OFFER },
        },
      ],
    });
    const call = (await gw.gateway.lifecycle.findCall({ provider: 'livekit', providerCallId: wacid }))!;
    await until(call.id, 'RINGING');
    const reject = (await gql(gw.url, app.liveKey, RejectCallDocument, { input: { callId: call.id } })).data!.rejectCall;
    expect(reject).toMatchObject({ userErrors: [], call: { status: 'BUSY', endReason: 'REJECTED' } });
    const request = meta.to(new RegExp(`/v${meta.apiVersion}/${meta.phoneNumberId}/calls$`)).at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${meta.accessToken}`);
    expect(request.body).toEqual({ messaging_product: 'whatsapp', call_id: wacid, action: 'reject' });
  });

  it('the connector refusing the dial: PROVIDER_ERROR, and the call ends FAILED', async () => {
    lk.failNext(/DialWhatsAppCall$/, { status: 400, body: { code: 'invalid_argument', msg: 'recipient has not granted call permission' } });
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, {
      input: { from: app.number, fromChannel: 'WHATSAPP', to: '+15557002002', toChannel: 'WHATSAPP' },
    });
    expect(data!.createCall.userErrors[0]).toMatchObject({
      code: 'PROVIDER_ERROR',
      message: 'livekit: recipient has not granted call permission (invalid_argument)',
    });
    expect(data!.createCall.call).toMatchObject({ status: 'FAILED', endReason: 'PROVIDER_ERROR' });
  });
});

describe('the WhatsApp webhook endpoint', () => {
  it("answers Meta's hub.challenge handshake only with the verify token", async () => {
    const get = (token: string) => fetch(`${webhookUrl}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`);
    const ok = await get(meta.verifyToken);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    expect((await get('wrong')).status).toBe(403);
    expect((await fetch(`${webhookUrl}?hub.mode=unsubscribe&hub.verify_token=${meta.verifyToken}&hub.challenge=1`)).status).toBe(403);
  });

  it('100 tampered, unsigned or wrongly signed POSTs: 401 each, and no state change', async () => {
    const { id, wacid } = await dialWhatsApp('WHATSAPP', '+15557002003');
    const before = await commandRowCounts(gw.database, id);
    const body = FakeMeta.webhook({
      calls: [{ id: wacid, event: 'connect', direction: 'BUSINESS_INITIATED', session: { sdp_type: 'answer', sdp: SDP_ANSWER } }],
    });
    const post = (payload: string, signature?: string) =>
      fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
        body: payload,
      }).then((r) => r.status);
    const attempts: Promise<number>[] = [];
    for (let i = 0; i < 25; i++) {
      attempts.push(post(body.replace('BUSINESS_INITIATED', 'USER_INITIATED'), meta.signature(body)));
      attempts.push(post(body, meta.signature(body, 'another-app-secret')));
      attempts.push(post(body));
      attempts.push(post(body, meta.signature(body).replace('sha256=', 'sha1=')));
    }
    const statuses = await Promise.all(attempts);
    expect(statuses).toHaveLength(100);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect((await state(id)).status).toBe('RINGING');
    expect(twirp('Connector/ConnectWhatsAppCall').filter((r) => r.body.whatsappCallId === wacid)).toHaveLength(0);
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
  });

  it('a half-configured WhatsApp stops the gateway at start, naming the missing variable', () => {
    expect(() => loadConfig({ WHATSAPP_PHONE_NUMBER_ID: '1', PUBLIC_URL: 'https://x.test' })).toThrow(/WHATSAPP_BUSINESS_NUMBER is missing/);
    expect(() => loadConfig({ ...meta.env('+15550001111'), PUBLIC_URL: 'https://x.test' })).toThrow(/LIVEKIT_URL is missing/);
  });
});
