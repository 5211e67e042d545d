import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeAndFollow } from '../examples/client-example.js';
import {
  CallDocument,
  CallStatsDocument,
  CallsGatewayError,
  CallsDocument,
  CreateCallDocument,
  PhoneNumbersDocument,
  RotateStatusCallbackSecretDocument,
  SendDtmfDocument,
  SetNumberRoutingDocument,
  SimulateDtmfDocument,
  createCallsClient,
} from '../packages/client/src/index.js';
import WebSocket from 'ws';
import { eventually, holdStatements } from './helpers/gateway.js';
import { bootGateway, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';

let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  // Slow enough (≈1.5 s a call) that the call is still ringing when the example subscribes to it.
  gw = await bootGateway({ config: { simulatorTimeScale: 0.1 } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

describe('the typed client (client/) and the README example', () => {
  it('places a test call and follows it to COMPLETED', async () => {
    const statuses = await placeAndFollow(gw.url, app.testKey, app.number);
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses).toContain('IN_PROGRESS');
  });

  it('queries are typed and errors carry their code', async () => {
    const client = createCallsClient({ url: gw.url, apiKey: app.testKey });
    const { calls } = await client.request(CallsDocument, { first: 5 });
    expect(calls.nodes.length).toBeGreaterThan(0);
    const bad = createCallsClient({ url: gw.url, apiKey: 'sk_test_app_nope' });
    await expect(bad.request(CallsDocument, {})).rejects.toMatchObject({ name: 'CallsGatewayError', code: 'UNAUTHENTICATED' });
    await expect(client.request(CallsDocument, { first: 500 })).rejects.toBeInstanceOf(CallsGatewayError);
  });

  it('the operations added for the whole schema run: callStats, phoneNumbers, setNumberRouting, sendDtmf, simulateDtmf, rotateStatusCallbackSecret', async () => {
    const client = createCallsClient({ url: gw.url, apiKey: app.testKey });
    const { phoneNumbers } = await client.request(PhoneNumbersDocument, {});
    expect(phoneNumbers.map((number) => number.number)).toContain(app.number);
    const { setNumberRouting } = await client.request(SetNumberRoutingDocument, {
      input: { number: app.number, routing: 'FORWARD', forwardTo: '+15005550001' },
    });
    expect(setNumberRouting).toMatchObject({ userErrors: [], phoneNumber: { number: app.number, routing: 'FORWARD', routingTarget: '+15005550001' } });
    await client.request(SetNumberRoutingDocument, { input: { number: app.number, routing: 'APPLICATION' } });

    const { createCall } = await client.request(CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
    const id = createCall.call!.id;
    await eventually(async () => (await client.request(CallDocument, { id })).call!.status === 'IN_PROGRESS', 10_000, 'the call to be answered');
    const { sendDtmf } = await client.request(SendDtmfDocument, { input: { callId: id, digits: '42' } });
    expect(sendDtmf).toMatchObject({ userErrors: [], command: { type: 'SEND_DTMF' } });
    const { simulateDtmf } = await client.request(SimulateDtmfDocument, { input: { callId: id, digits: '7' } });
    expect(simulateDtmf.userErrors).toEqual([]);
    await eventually(
      async () =>
        (await client.request(CallDocument, { id })).call!.commands.some((command) => command.arguments.digits === '42' && command.status === 'APPLIED'),
      10_000,
      'sendDtmf to apply',
    );
    const { call } = await client.request(CallDocument, { id });
    expect(call!.events.nodes.filter((event) => event.digits !== null).map((event) => [event.kind, event.digits])).toEqual(
      expect.arrayContaining([['DTMF_RECEIVED', '7']]),
    );

    const { callStats } = await client.request(CallStatsDocument, {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 60_000).toISOString(),
      groupBy: ['STATUS'],
    });
    expect(callStats.total.count).toBeGreaterThan(0);
    expect(callStats.groups.reduce((sum, group) => sum + group.count, 0)).toBe(callStats.total.count);

    const { rotateStatusCallbackSecret } = await client.request(RotateStatusCallbackSecretDocument, {});
    expect(rotateStatusCallbackSecret).toMatchObject({ userErrors: [], secret: expect.any(String) });
  });

  it('follow: a change made while the list is read (held at the database) is passed on once, never twice; later ones follow', async () => {
    const client = createCallsClient({ url: gw.url, apiKey: app.testKey, webSocketImpl: WebSocket });
    // Read from the table: the list's statement (and Call.commands') is what the test holds.
    const statusOf = async (id: string) => (await gw.database.sql.query<{ status: string }>('SELECT status FROM call WHERE id = $1', [id]))[0]!.status;
    try {
      const gate = holdStatements(gw, /ORDER BY created_at/, app.id);
      let during: string;
      let following: Awaited<ReturnType<typeof client.follow<Awaited<ReturnType<typeof readList>>>>>;
      const readList = () => client.request(CallsDocument, { first: 50 });
      try {
        const started = client.follow(readList, (list) => list.calls.nodes);
        await eventually(() => gate.state.entered >= 1, 10_000, 'the list read to reach the database');
        during = (await client.request(CreateCallDocument, { input: { from: app.number, to: '+15005550002' } })).createCall.call!.id;
        await eventually(async () => (await statusOf(during)) === 'busy', 10_000, 'the call placed meanwhile to end BUSY');
        gate.release();
        following = await started;
      } finally {
        gate.release();
      }
      // The list shows it as it ended: BUSY, version 2 (INITIATED, BUSY).
      expect(following.list.calls.nodes.find((call) => call.id === during)).toMatchObject({ status: 'BUSY', version: 2 });
      const after = (await client.request(CreateCallDocument, { input: { from: app.number, to: '+15005550002' } })).createCall.call!.id;
      const passed: { id: string; sequence: number; status: string }[] = [];
      for await (const { callStatus } of following.events) {
        passed.push({ id: callStatus.call.id, sequence: callStatus.sequence, status: callStatus.status });
        if (callStatus.call.id === after && callStatus.status === 'BUSY') break;
      }
      // Nothing of the call the list already showed; every change of the later one, once.
      expect(passed.filter((event) => event.id === during)).toEqual([]);
      expect(passed.filter((event) => event.id === after)).toEqual([
        { id: after, sequence: 1, status: 'INITIATED' },
        { id: after, sequence: 2, status: 'BUSY' },
      ]);
    } finally {
      await client.close();
    }
  });
});
