import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { bootGateway, commandRowCounts, eventually, gql, listenersRegistered, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { Receiver } from './helpers/receiver.js';
import { CallStateDocument, CreateCallDocument, CreateWebhookEndpointDocument, SendDtmfDocument, SimulateDtmfDocument } from './gql/graphql.js';

// DTMF in test mode: sendDtmf (DTMF_SENT) and simulateDtmf (DTMF_RECEIVED, as Telnyx's
// call.dtmf.received) through GraphQL over HTTP, callStatus over WebSocket, and webhooks.
// Telnyx's send_dtmf and call.dtmf.received are in telnyx.test.ts; LiveKit's refusal in livekit.test.ts.
let gw: TestGateway;
let app: TestApp;
let receiver: Receiver;
beforeAll(async () => {
  gw = await bootGateway({ env: { WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
  app = await newApp(gw.admin);
  receiver = await new Receiver().start();
});
afterAll(async () => {
  await gw.stop();
  await receiver.stop();
});

/** A test call answered and left IN_PROGRESS (+15005550006). */
async function answered(): Promise<string> {
  const id = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } })).data!.createCall.call!.id;
  await eventually(async () => (await gql(gw.url, app.testKey, CallStateDocument, { id })).data!.call!.status === 'IN_PROGRESS', 10_000, 'answered');
  return id;
}

describe('DTMF', () => {
  it('sendDtmf and a party pressing keys: DTMF_SENT and DTMF_RECEIVED events with their digits, live on callStatus and in Call.events; the received keys go to webhooks', async () => {
    const endpoint = (await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: receiver.url, events: ['CALLS_DTMF_RECEIVED'] } })).data!
      .createWebhookEndpoint;
    expect(endpoint.userErrors).toEqual([]);
    const id = await answered();
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription($id: ID!) { callStatus(callId: $id, after: null) { kind status digits command { type } } }`, { id });
      await listenersRegistered(gw, before + 1);
      const sent = (await gql(gw.url, app.testKey, SendDtmfDocument, { input: { callId: id, digits: '12w#', duration: 300 } })).data!.sendDtmf;
      expect(sent).toMatchObject({ userErrors: [], command: { type: 'SEND_DTMF' } });
      await eventually(
        async () => (await gql(gw.url, app.testKey, CallStateDocument, { id })).data!.call!.commands[0]?.status === 'APPLIED',
        10_000,
        'applied',
      );
      const pressed = (await gql(gw.url, app.testKey, SimulateDtmfDocument, { input: { callId: id, digits: '5' } })).data!.simulateDtmf;
      expect(pressed).toMatchObject({ userErrors: [], call: { id, status: 'IN_PROGRESS' } });
      const events = await sub.until((items) => items.some((item) => item.kind === 'DTMF_RECEIVED'));
      sub.stop();
      expect(events.filter((item) => item.kind !== 'STATUS_CHANGED')).toEqual([
        { kind: 'DTMF_SENT', status: 'IN_PROGRESS', digits: '12w#', command: { type: 'SEND_DTMF' } },
        { kind: 'DTMF_RECEIVED', status: 'IN_PROGRESS', digits: '5', command: null },
      ]);
      const call = (await gql(gw.url, app.testKey, CallStateDocument, { id })).data!.call!;
      expect(call.events.nodes.filter((event) => event.digits !== null).map((event) => [event.kind, event.digits])).toEqual([
        ['DTMF_SENT', '12w#'],
        ['DTMF_RECEIVED', '5'],
      ]);
    } finally {
      await client.dispose();
    }
    // The endpoint subscribed to calls.dtmf_received only: that one event, signed, with the digits.
    await eventually(() => receiver.received.some((request) => request.json?.data?.call?.id === id), 10_000, 'the webhook');
    const hooks = receiver.received.filter((request) => request.json?.data?.call?.id === id);
    expect(hooks).toHaveLength(1);
    expect(() => new Webhook(endpoint.secret!).verify(hooks[0]!.body, hooks[0]!.headers)).not.toThrow();
    expect(hooks[0]!.json).toMatchObject({ event: 'calls.dtmf_received', data: { call: { id, status: 'in_progress' }, dtmf: { digits: '5' } } });
  });

  it.each([
    [{ digits: '12x' }, 'digits', 'INVALID_ARGUMENT'],
    [{ digits: '' }, 'digits', 'INVALID_ARGUMENT'],
    [{ digits: '1'.repeat(65) }, 'digits', 'INVALID_ARGUMENT'],
    [{ digits: '1', duration: 99 }, 'duration', 'INVALID_ARGUMENT'],
    [{ digits: '1', duration: 501 }, 'duration', 'INVALID_ARGUMENT'],
  ])('sendDtmf %j is refused on input.%s and changes nothing', async (input, field, code) => {
    const id = await answered();
    const before = await commandRowCounts(gw.database, id);
    const result = (await gql(gw.url, app.testKey, SendDtmfDocument, { input: { callId: id, ...input } as never })).data!.sendDtmf;
    expect(result.command).toBeNull();
    expect(result.userErrors).toEqual([expect.objectContaining({ code, field: ['input', field] })]);
    expect(await commandRowCounts(gw.database, id)).toEqual(before);
  });

  it('a call not answered takes no DTMF; simulateDtmf needs a test key and an answered call', async () => {
    // The simulator moves the call on meanwhile (it rings, then NO_ANSWER): what must not change is DTMF.
    const ringing = (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550003' } })).data!.createCall.call!.id;
    const refused = (await gql(gw.url, app.testKey, SendDtmfDocument, { input: { callId: ringing, digits: '1' } })).data!.sendDtmf;
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'callId'] })]);
    const pressed = (await gql(gw.url, app.testKey, SimulateDtmfDocument, { input: { callId: ringing, digits: '1' } })).data!.simulateDtmf;
    expect(pressed.userErrors).toEqual([expect.objectContaining({ code: 'CALL_NOT_ACTIVE' })]);
    const live = (await gql(gw.url, app.liveKey, SimulateDtmfDocument, { input: { callId: ringing, digits: '1' } })).data!.simulateDtmf;
    expect(live.userErrors).toEqual([expect.objectContaining({ code: 'TEST_MODE_ONLY' })]);
    const [row] = await gw.database.sql.query<{ commands: number; dtmf: number }>(
      `SELECT (SELECT count(*)::int FROM call_command WHERE call_id = $1) AS commands, (SELECT count(*)::int FROM call_event WHERE call_id = $1 AND digits IS NOT NULL) AS dtmf`,
      [ringing],
    );
    expect(row).toEqual({ commands: 0, dtmf: 0 });
  });
});
