import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, listenersRegistered, newApp, rawGql, type TestGateway } from './helpers/gateway.js';
import { CALL_STATUS, collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'fast' });
});
afterAll(() => gw.stop());

const OUTCOMES: [string, string, string[], [string | null, string | null, number | null]][] = [
  ['an ordinary number', '+15551234567', ['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED'], ['HANGUP', 'CALLEE', null]],
  ['+15005550001 (answered, completes)', '+15005550001', ['INITIATED', 'RINGING', 'IN_PROGRESS', 'COMPLETED'], ['HANGUP', 'CALLEE', null]],
  ['+15005550002 (busy)', '+15005550002', ['INITIATED', 'BUSY'], ['BUSY', 'CALLEE', 486]],
  ['+15005550003 (no answer)', '+15005550003', ['INITIATED', 'RINGING', 'NO_ANSWER'], ['NO_ANSWER', 'SYSTEM', 480]],
  ['+15005550004 (failed)', '+15005550004', ['INITIATED', 'FAILED'], ['FAILED', 'SYSTEM', 503]],
  ['+15005550005 (voicemail)', '+15005550005', ['INITIATED', 'RINGING', 'VOICEMAIL', 'COMPLETED'], ['VOICEMAIL', 'CALLER', null]],
  ['+15005550006 (stays in progress)', '+15005550006', ['INITIATED', 'RINGING', 'IN_PROGRESS'], [null, null, null]],
];

describe('test-mode lifecycle through the callStatus subscription', () => {
  it.each(OUTCOMES)(
    '%s: the subscriber sees every status with sequences 1..n, and the call agrees',
    async (_name, to, statuses, [endReason, hangupSource, sipCode]) => {
      const app = await newApp(gw.admin);
      const client = wsClient(gw.wsUrl, app.testKey);
      try {
        const before = gw.gateway.liveSubscriptions;
        const sub = collect(client, CALL_STATUS, { filter: { toAddress: to } });
        await listenersRegistered(gw, before + 1);
        const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to, toChannel: 'PSTN' } });
        const id = created.data!.createCall.call!.id;
        const events = await sub.until((items) => items.length >= statuses.length);
        sub.stop();
        expect(events.map((event) => event.status)).toEqual(statuses);
        expect(events.map((event) => event.sequence)).toEqual(statuses.map((_, index) => index + 1));
        expect(events.map((event) => event.previousStatus)).toEqual([null, ...statuses.slice(0, -1)]);
        expect(new Set(events.map((event) => event.call.id))).toEqual(new Set([id]));

        // The call's own fields match the timeline.
        const last = events.at(-1)!;
        const { data } = await rawGql(gw.url, app.testKey, {
          query: `query($id: ID!) { call(id: $id) { status startedAt answeredAt endedAt duration endReason hangupSource sipCode events { nodes { sequence status occurredAt } } } }`,
          variables: { id },
        });
        const call = data.call;
        expect(call.status).toBe(last.status);
        expect(call.events.nodes.map((event: { status: string }) => event.status)).toEqual(statuses);
        const at = (status: string) => call.events.nodes.find((event: { status: string }) => event.status === status)?.occurredAt ?? null;
        expect(call.startedAt).toBe(at('RINGING'));
        expect(call.answeredAt).toBe(at('IN_PROGRESS') ?? at('VOICEMAIL'));
        expect([call.endReason, call.hangupSource, call.sipCode]).toEqual([endReason, hangupSource, sipCode]);
        if (endReason) {
          expect(call.endedAt).toBe(last.occurredAt);
          const expected = call.answeredAt ? Math.round((Date.parse(call.endedAt) - Date.parse(call.answeredAt)) / 1000) : 0;
          expect(call.duration).toBe(expected);
        } else {
          expect(call.endedAt).toBeNull();
          expect(call.duration).toBeNull();
        }
      } finally {
        await client.dispose();
      }
    },
  );

  it("with callId and no cursor, the first event is the call's current state", async () => {
    const app = await newApp(gw.admin);
    const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
    const id = created.data!.createCall.call!.id;
    // Let it reach IN_PROGRESS, where it stays.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub = collect(client, CALL_STATUS, { callId: id });
      const [first] = await sub.until((items) => items.length >= 1);
      expect(first).toMatchObject({ status: 'IN_PROGRESS', sequence: 3, call: { id, status: 'IN_PROGRESS' } });
      sub.stop();
    } finally {
      await client.dispose();
    }
  });

  it('an unknown, malformed or foreign callId, or a forged cursor, is a BAD_USER_INPUT error', async () => {
    const a = await newApp(gw.admin);
    const b = await newApp(gw.admin);
    const foreign = (await gql(gw.url, b.testKey, CreateCallDocument, { input: { from: b.number, to: '+15005550006' } })).data!.createCall.call!.id;
    const client = wsClient(gw.wsUrl, a.testKey);
    try {
      for (const variables of [{ callId: foreign }, { callId: 'call_nope' }, { after: 'garbage' }, { callId: foreign.replace('call_test_', 'call_') }]) {
        const sub = collect(client, CALL_STATUS, variables);
        await expect(sub.until(() => false, 5_000)).rejects.toThrow(/BAD_USER_INPUT/);
      }
    } finally {
      await client.dispose();
    }
  });
});
