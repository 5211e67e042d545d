import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, listenersRegistered, newApp, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { CallWithOptionsDocument, CreateCallDocument, type CreateCallInput } from './gql/graphql.js';

// createCall's options in test mode: the simulator honours every one (SIMULATOR_TIME_SCALE 0.01:
// a second of the scenario is 10 ms). Telnyx and LiveKit are in telnyx-options/livekit tests.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'fast' });
  app = await newApp(gw.admin);
});
afterAll(() => gw.stop());

async function create(input: Partial<CreateCallInput>) {
  const { data, errors } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567', ...input } });
  expect(errors).toBeUndefined();
  return data!.createCall;
}
const state = async (id: string) => (await gql(gw.url, app.testKey, CallWithOptionsDocument, { id })).data!.call!;
async function until(id: string, status: string) {
  let call = await state(id);
  await eventually(async () => (call = await state(id)).status === status, 10_000, `${id} to be ${status}`);
  return call;
}
const at = (call: Awaited<ReturnType<typeof state>>, status: string) => Date.parse(call.events.nodes.find((event) => event.status === status)!.occurredAt);

describe('createCall options, carried out by the simulator', () => {
  it('over WebSocket: callStatus events carry the options, answeredBy, endReason, hangupSource and sipCode', async () => {
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(
        client,
        `subscription { callStatus(filter: { toAddress: "+15005550006" }) { status call { answeredBy endReason hangupSource sipCode options { timeLimit machineDetection } } } }`,
        {},
      );
      await listenersRegistered(gw, before + 1);
      await create({ to: '+15005550006', timeLimit: 30, machineDetection: 'DETECT' });
      const events = await sub.until((items) => items.some((item) => item.status === 'COMPLETED'));
      sub.stop();
      expect(events.find((item) => item.status === 'IN_PROGRESS')!.call).toMatchObject({
        answeredBy: 'HUMAN',
        options: { timeLimit: 30, machineDetection: 'DETECT' },
      });
      expect(events.find((item) => item.status === 'COMPLETED')!.call).toMatchObject({ endReason: 'TIME_LIMIT', hangupSource: 'SYSTEM', sipCode: null });
    } finally {
      await client.dispose();
    }
  });

  it('ringTimeout: a call that would ring 20 s ends NO_ANSWER after ringTimeout (SYSTEM, SIP 408, where the scenario ends 480)', async () => {
    const { call } = await create({ to: '+15005550003', ringTimeout: 5 });
    expect(call!.options).toMatchObject({ ringTimeout: 5, timeLimit: null });
    const ended = await until(call!.id, 'NO_ANSWER');
    expect(ended).toMatchObject({ endReason: 'NO_ANSWER', hangupSource: 'SYSTEM', sipCode: 408 });
    // 5 s of ringing at 1/100 speed: at least 50 ms (timers never fire early; later under load).
    expect(at(ended, 'NO_ANSWER') - at(ended, 'RINGING')).toBeGreaterThanOrEqual(45);
  });

  it('a ringTimeout longer than the ringing changes nothing', async () => {
    const { call } = await create({ to: '+15005550001', ringTimeout: 60 });
    expect(await until(call!.id, 'COMPLETED')).toMatchObject({ endReason: 'HANGUP' });
  });

  it('timeLimit: an answered call that would never end is COMPLETED at the limit (time_limit, SYSTEM)', async () => {
    const { call } = await create({ to: '+15005550006', timeLimit: 30 });
    const ended = await until(call!.id, 'COMPLETED');
    expect(ended).toMatchObject({ endReason: 'TIME_LIMIT', hangupSource: 'SYSTEM', options: { timeLimit: 30 } });
    expect(at(ended, 'COMPLETED') - at(ended, 'IN_PROGRESS')).toBeGreaterThanOrEqual(290);
  });

  it('machineDetection: unset or DETECT tells HUMAN or MACHINE (VOICEMAIL); OFF leaves a voicemail box undetected', async () => {
    const human = (await create({ to: '+15005550001', machineDetection: 'DETECT' })).call!;
    const box = (await create({ to: '+15005550005' })).call!;
    const undetected = (await create({ to: '+15005550005', machineDetection: 'OFF' })).call!;
    expect(await until(human.id, 'COMPLETED')).toMatchObject({ answeredBy: 'HUMAN', options: { machineDetection: 'DETECT' } });
    const voicemail = await until(box.id, 'COMPLETED');
    expect(voicemail).toMatchObject({ answeredBy: 'MACHINE', endReason: 'VOICEMAIL' });
    expect(voicemail.events.nodes.map((event) => event.status)).toContain('VOICEMAIL');
    const off = await until(undetected.id, 'COMPLETED');
    expect(off.answeredBy).toBeNull();
    expect(off.events.nodes.map((event) => event.status)).toEqual(['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED']);
  });

  it('recordFromAnswer: recording starts when the call is answered (a startRecording command), and is saved at the end', async () => {
    const { call } = await create({ to: '+15005550001', recordFromAnswer: 'MP3', callerName: 'Ada at Acme' });
    expect(call!.options).toMatchObject({ recordFromAnswer: 'MP3', callerName: 'Ada at Acme' });
    await until(call!.id, 'COMPLETED');
    let ended = await state(call!.id);
    await eventually(async () => (ended = await state(call!.id)).recordings[0]?.status === 'SAVED', 10_000, 'the saved recording');
    expect(ended.commands).toEqual([{ type: 'START_RECORDING', status: 'APPLIED' }]);
    expect(ended.recordings).toEqual([{ format: 'MP3', status: 'SAVED' }]);
  });

  it('out-of-bounds options are refused with their field paths, every one at once, and nothing is stored', async () => {
    const before = await rowCounts(gw.database, app.id);
    const refused = await create({ ringTimeout: 4, timeLimit: 14_401, callerName: 'a\u0007b', recordFromAnswer: 'OGG' });
    expect(refused.call).toBeNull();
    expect(refused.userErrors).toEqual([
      { code: 'INVALID_ARGUMENT', field: ['input', 'ringTimeout'], message: expect.stringMatching(/5 to 600 seconds/) },
      { code: 'INVALID_ARGUMENT', field: ['input', 'timeLimit'], message: expect.stringMatching(/30 to 14400 seconds/) },
      { code: 'INVALID_ARGUMENT', field: ['input', 'callerName'], message: expect.stringMatching(/no control characters/) },
      { code: 'COMMAND_NOT_ALLOWED', field: ['input', 'recordFromAnswer'], message: expect.stringMatching(/records MP3 or WAV, not OGG/) },
    ]);
    expect(await rowCounts(gw.database, app.id)).toEqual(before);
  });

  it('options are part of an idempotent request: the same key with other options is IDEMPOTENCY_KEY_REUSED', async () => {
    const first = await create({ idempotencyKey: 'opt-1', ringTimeout: 30 });
    expect((await create({ idempotencyKey: 'opt-1', ringTimeout: 30 })).replayed).toBe(true);
    const other = await create({ idempotencyKey: 'opt-1', ringTimeout: 31 });
    expect(other.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' })]);
    expect(first.call!.id).toBeTruthy();
  });
});
