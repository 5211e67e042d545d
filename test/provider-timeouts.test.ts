import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallStatus } from '../src/domain/call.js';
import { bootGateway, eventually, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CallStateDocument, CreateCallDocument, HoldCallDocument } from './gql/graphql.js';

// A live provider whose callbacks never arrive (the recording double accepts and never reports).
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ liveProvider: true, config: { commandTimeoutMs: 300, callSetupTimeoutMs: 1_000 } });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

const state = async (id: string) => (await gql(gw.url, app.liveKey, CallStateDocument, { id })).data!.call!;

describe('lost provider callbacks: nothing waits forever', () => {
  it('a live call the provider never reports on ends FAILED ("provider_timeout") after CALL_SETUP_TIMEOUT_MS and is hung up at the provider, once', async () => {
    const created = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15551230001' } });
    const id = created.data!.createCall.call!.id;
    expect(created.data!.createCall.call!.status).toBe('INITIATED');
    let call = await state(id);
    await eventually(async () => (call = await state(id)).status === 'FAILED', 10_000, 'the setup timeout');
    expect(call.endReason).toBe('PROVIDER_TIMEOUT');
    // Ended first, then hung up by the sweep that ended it: once, however many sweeps ran meanwhile
    // (CI once saw two hang-ups when a sweep outlasted its interval).
    const hangups = () => gw.liveProvider.executed.filter((command) => command.callId === id).map((command) => command.type);
    await eventually(() => hangups().length > 0, 5_000, 'the hang-up');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hangups()).toEqual(['hangup']);
  });

  it('two gateway processes sweeping the same stuck call hang it up once between them', async () => {
    const other = await bootGateway({ liveProvider: true, shareDatabaseWith: gw, config: { commandTimeoutMs: 300, callSetupTimeoutMs: 1_000 } });
    try {
      const id = (await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15551230002' } })).data!.createCall.call!.id;
      await eventually(async () => (await state(id)).status === 'FAILED', 10_000, 'the setup timeout');
      const hangups = () => [gw, other].flatMap((g) => g.liveProvider.executed.filter((command) => command.callId === id));
      await eventually(() => hangups().length > 0, 5_000, 'the hang-up');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(hangups().map((command) => command.type)).toEqual(['hangup']);
    } finally {
      await other.stop();
    }
  });

  it('a provider that cannot hang the stuck call up does not keep it alive here: it still ends FAILED', async () => {
    gw.liveProvider.failWith = 'call not found';
    try {
      const id = (await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15551230003' } })).data!.createCall.call!.id;
      await eventually(async () => (await state(id)).status === 'FAILED', 10_000, 'the setup timeout');
      await eventually(() => gw.liveProvider.executed.some((command) => command.callId === id), 5_000, 'the hang-up attempt');
      expect(gw.liveProvider.executed.filter((command) => command.callId === id).map((command) => command.type)).toEqual(['hangup']);
    } finally {
      gw.liveProvider.failWith = null;
    }
  });

  it('a call whose placement never finished (the process died while placing it) is not replayed as alive for ever: the sweep ends it FAILED, and a retry with its idempotency key then says so', async () => {
    gw.liveProvider.hangPlacement = true;
    const input = { from: app.number, to: '+15551230004', idempotencyKey: `crash-${Date.now()}` };
    try {
      // The first request never gets its answer, as when the gateway dies mid-request.
      void gql(gw.url, app.liveKey, CreateCallDocument, { input }).catch(() => {});
      await eventually(() => gw.livePlaced.some((call) => call.toAddress === input.to), 5_000, 'the placement to start');
    } finally {
      gw.liveProvider.hangPlacement = false;
    }
    const retried = (await gql(gw.url, app.liveKey, CreateCallDocument, { input })).data!.createCall;
    expect(retried).toMatchObject({ replayed: true, call: { status: 'INITIATED' } });
    const id = retried.call!.id;
    await eventually(async () => (await state(id)).status === 'FAILED', 10_000, 'the setup timeout');
    const again = (await gql(gw.url, app.liveKey, CreateCallDocument, { input })).data!.createCall;
    expect(again).toMatchObject({ replayed: true, call: { id, status: 'FAILED', endReason: 'PROVIDER_TIMEOUT' } });
    // It never reached the provider with an id: nothing to hang up there.
    expect(gw.liveProvider.executed.filter((command) => command.callId === id)).toEqual([]);
  });

  it('a command the provider never confirms FAILS after COMMAND_TIMEOUT_MS, with a COMMAND_FAILED event; an answered call is left alone', async () => {
    const id = (await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15551230002' } })).data!.createCall.call!.id;
    await gw.gateway.lifecycle.apply({ callId: id, status: CallStatus.RINGING });
    await gw.gateway.lifecycle.apply({ callId: id, status: CallStatus.IN_PROGRESS });
    const hold = (await gql(gw.url, app.liveKey, HoldCallDocument, { input: { callId: id } })).data!.holdCall;
    expect(hold.command!.status).toBe('ACCEPTED');
    await state(id);
    await eventually(async () => (await state(id)).commands[0]!.status === 'FAILED', 10_000, 'the command timeout');
    // Read again: one response reads the events before the commands, so it may predate the commit.
    const call = await state(id);
    expect(call.commands[0]!.error).toBe('The provider did not confirm the command within 300 ms');
    expect(call.events.nodes.at(-1)).toMatchObject({ kind: 'COMMAND_FAILED', command: { id: hold.command!.id } });
    // Well past CALL_SETUP_TIMEOUT_MS, the answered call is still IN_PROGRESS.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await state(id)).status).toBe('IN_PROGRESS');
  });
});
