import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, listenersRegistered, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/cli.js';
import { collect, wsClient } from './helpers/ws.js';
import { CallStateDocument, PhoneNumbersDocument, SetNumberRoutingDocument, SimulateInboundCallDocument } from './gql/graphql.js';

// phoneNumbers, per-number inbound routing (setNumberRouting and the CLI), and what the simulator
// does with a routed call. Telnyx's side (transfer, call.bridged; RING_WEBRTC over SIP) is in
// telnyx.test.ts and sip-bridge.test.ts.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'fast' });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const numbers = async (key: string) => (await gql(gw.url, key, PhoneNumbersDocument, {})).data!.phoneNumbers;
const route = async (key: string, input: Record<string, unknown>) =>
  (await gql(gw.url, key, SetNumberRoutingDocument, { input: input as never })).data!.setNumberRouting;

describe('phoneNumbers and routing', () => {
  it("lists the application's numbers with their channels and routing; routing is per mode", async () => {
    expect(await numbers(app.testKey)).toEqual([{ number: app.number, channels: ['PSTN'], routing: 'APPLICATION', routingTarget: null }]);
    const set = await route(app.testKey, { number: app.number, routing: 'FORWARD', forwardTo: '+15557770000' });
    expect(set).toEqual({ phoneNumber: { number: app.number, routing: 'FORWARD', routingTarget: '+15557770000' }, userErrors: [] });
    expect((await numbers(app.testKey))[0]).toMatchObject({ routing: 'FORWARD', routingTarget: '+15557770000' });
    // A test key never changes what live calls do.
    expect((await numbers(app.liveKey))[0]).toMatchObject({ routing: 'APPLICATION', routingTarget: null });
    const other = await newApp(gw.admin);
    expect(await numbers(other.testKey)).toEqual([{ number: other.number, channels: ['PSTN'], routing: 'APPLICATION', routingTarget: null }]);
  });

  it.each([
    [{ routing: 'FORWARD' }, 'forwardTo', 'INVALID_ARGUMENT'],
    [{ routing: 'FORWARD', forwardTo: '12345' }, 'forwardTo', 'INVALID_PHONE_NUMBER'],
    [{ routing: 'RING_WEBRTC' }, 'identity', 'INVALID_ARGUMENT'],
    [{ routing: 'RING_WEBRTC', identity: 'has spaces' }, 'identity', 'INVALID_ADDRESS'],
    [{ routing: 'APPLICATION', number: '+15550001111' }, 'number', 'PHONE_NUMBER_NOT_ASSIGNED'],
  ])('%j is refused on input.%s (%s) and changes nothing', async (input, field, code) => {
    const own = await newApp(gw.admin);
    const result = await route(own.testKey, { number: own.number, ...input });
    expect(result.phoneNumber).toBeNull();
    expect(result.userErrors).toEqual([expect.objectContaining({ code, field: ['input', field] })]);
    expect((await numbers(own.testKey))[0]).toMatchObject({ routing: 'APPLICATION', routingTarget: null });
  });

  it('RING_WEBRTC for live calls is refused on a gateway without LiveKit SIP (no live call could reach a browser); test mode has the simulator', async () => {
    const own = await newApp(gw.admin);
    const refused = await route(own.liveKey, { number: own.number, routing: 'RING_WEBRTC', identity: 'desk-1' });
    expect(refused.phoneNumber).toBeNull();
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COMMAND_NOT_ALLOWED', field: ['input', 'routing'] })]);
    expect(refused.userErrors[0]!.message).toMatch(/LIVEKIT_SIP_URI/);
    expect((await numbers(own.liveKey))[0]).toMatchObject({ routing: 'APPLICATION', routingTarget: null });
    expect((await route(own.testKey, { number: own.number, routing: 'RING_WEBRTC', identity: 'desk-1' })).userErrors).toEqual([]);
  });

  it.each([
    ['FORWARD', { forwardTo: '+15557770001' }, '+15557770001', 'PSTN', null],
    ['RING_WEBRTC', { identity: 'agent-42' }, 'agent-42', 'WEBRTC', 'room'],
  ] as const)('a test call arriving at a %s number is sent on at once (TRANSFERRED on callStatus), then taken', async (routing, target, to, channel, room) => {
    const own = await newApp(gw.admin);
    expect((await route(own.testKey, { number: own.number, routing, ...target })).userErrors).toEqual([]);
    const client = wsClient(gw.wsUrl, own.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus { kind status call { id transferredTo transferredToChannel livekitRoomName } } }`, {});
      await listenersRegistered(gw, before + 1);
      const arrived = (await gql(gw.url, own.testKey, SimulateInboundCallDocument, { input: { from: '+15551112222', to: own.number } })).data!
        .simulateInboundCall;
      expect(arrived.userErrors).toEqual([]);
      const id = arrived.call!.id;
      const events = await sub.until((items) => items.some((item) => item.status === 'IN_PROGRESS'));
      sub.stop();
      const transferred = events.find((item) => item.kind === 'TRANSFERRED')!;
      // What a browser needs to join (RING_WEBRTC): its identity and the room, on the event itself.
      expect(transferred.call).toEqual({ id, transferredTo: to, transferredToChannel: channel, livekitRoomName: room ? id : null });
      expect(events.filter((item) => item.kind === 'STATUS_CHANGED').map((item) => item.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS']);
      const call = (await gql(gw.url, own.testKey, CallStateDocument, { id })).data!.call!;
      expect(call).toMatchObject({ direction: 'INBOUND', transferredTo: to, commands: [] });
    } finally {
      await client.dispose();
    }
  });

  it('an APPLICATION number leaves the call to the application: it rings until answered', async () => {
    const own = await newApp(gw.admin);
    const id = (await gql(gw.url, own.testKey, SimulateInboundCallDocument, { input: { from: '+15551112222', to: own.number } })).data!.simulateInboundCall
      .call!.id;
    await eventually(async () => (await gql(gw.url, own.testKey, CallStateDocument, { id })).data!.call!.status === 'RINGING', 10_000, 'ringing');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await gql(gw.url, own.testKey, CallStateDocument, { id })).data!.call).toMatchObject({ status: 'RINGING', transferredTo: null });
  });

  it('the CLI: apps list, numbers list, numbers route (per mode)', async () => {
    const own = await newApp(gw.admin);
    const env = { DATABASE_URL: gw.databaseUrl };
    const apps = await runCli(['apps', 'list', '--json'], env);
    expect(apps.code).toBe(0);
    expect(JSON.parse(apps.stdout).apps).toContainEqual(expect.objectContaining({ id: own.id, numbers: 1 }));
    const routed = await runCli(['numbers', 'route', '--app', own.id, '--number', own.number, '--routing', 'forward', '--to', '+15557770002', '--json'], env);
    expect(routed.code).toBe(0);
    expect(JSON.parse(routed.stdout)).toMatchObject({ number: own.number, routing: 'forward', routingTarget: '+15557770002', mode: 'live' });
    const listed = await runCli(['numbers', 'list', '--app', own.id, '--mode', 'live', '--json'], env);
    expect(JSON.parse(listed.stdout).numbers).toEqual([
      expect.objectContaining({ number: own.number, channels: ['pstn'], routing: 'forward', routingTarget: '+15557770002' }),
    ]);
    // The live key sees it; the test key's routing is untouched.
    expect((await numbers(own.liveKey))[0]).toMatchObject({ routing: 'FORWARD', routingTarget: '+15557770002' });
    expect((await numbers(own.testKey))[0]).toMatchObject({ routing: 'APPLICATION' });
    // RING_WEBRTC: for test calls here; live calls need LiveKit SIP, which this gateway lacks.
    const ringing = await runCli(
      ['numbers', 'route', '--app', own.id, '--number', own.number, '--routing', 'ring_webrtc', '--identity', 'desk-1', '--mode', 'test'],
      env,
    );
    expect(ringing.code).toBe(0);
    expect((await numbers(own.testKey))[0]).toMatchObject({ routing: 'RING_WEBRTC', routingTarget: 'desk-1' });
    const live = await runCli(['numbers', 'route', '--app', own.id, '--number', own.number, '--routing', 'ring_webrtc', '--identity', 'desk-1'], env);
    expect(live.code).not.toBe(0);
    expect(live.stderr).toMatch(/LIVEKIT_SIP_URI/);
    const refused = await runCli(['numbers', 'route', '--app', own.id, '--number', own.number, '--routing', 'forward'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/FORWARD needs forwardTo/);
  });
});
