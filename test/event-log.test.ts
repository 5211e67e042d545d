import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, listenersRegistered, logSettled, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CALL_STATUS, collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';
import { CallStatus } from '../src/domain/call.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await bootGateway({ liveProvider: true, simulator: 'fast' });
});
afterAll(() => gw.stop());

/** Realistic paths a provider reports; the last status is the highest-ranked. */
const PATHS: CallStatus[][] = [
  [CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.COMPLETED],
  [CallStatus.RINGING, CallStatus.VOICEMAIL, CallStatus.COMPLETED],
  [CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL, CallStatus.COMPLETED],
  [CallStatus.RINGING, CallStatus.NO_ANSWER],
  [CallStatus.RINGING, CallStatus.BUSY],
  [CallStatus.BUSY],
  [CallStatus.FAILED],
  [CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FAILED],
  [CallStatus.RINGING, CallStatus.CANCELED],
];

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

async function liveCalls(app: TestApp, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { data } = await gql(gw.url, app.liveKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567' } });
    ids.push(data!.createCall.call!.id);
  }
  return ids;
}

describe('provider updates: conditional, ordered, exactly once', () => {
  it('1,000 updates over 100 calls, shuffled with 20% duplicates, applied concurrently: highest-ranked status wins, no gaps, the subscriber gets exactly the applied transitions in order', async () => {
    const app = await newApp(gw.admin);
    const ids = await liveCalls(app, 100);
    // The calls' INITIATED events are delivered before the subscriber starts listening, so it
    // expects exactly the transitions applied below.
    await logSettled(gw);
    const client = wsClient(gw.wsUrl, app.liveKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, CALL_STATUS, {});
      await listenersRegistered(gw, before + 1);

      const path = new Map(ids.map((id, index) => [id, PATHS[index % PATHS.length]!]));
      // 8 deliveries per call (its path, then retries of its statuses), then 200 exact duplicates.
      const updates: { callId: string; status: CallStatus }[] = [];
      for (const [callId, statuses] of path) {
        for (let i = 0; i < 8; i++) updates.push({ callId, status: statuses[i % statuses.length]! });
      }
      const duplicates = shuffle([...updates]).slice(0, 200);
      const all = shuffle([...updates, ...duplicates]);
      expect(all).toHaveLength(1_000);

      let next = 0;
      const results = await Promise.all(
        Array.from({ length: 25 }, async () => {
          const applied: number[] = [];
          while (next < all.length) {
            const update = all[next++]!;
            if (await gw.gateway.lifecycle.apply(update)) applied.push(1);
          }
          return applied.length;
        }),
      );
      const appliedCount = results.reduce((sum, count) => sum + count, 0);

      // Every call ends at the highest-ranked status it was sent.
      const rows = await gw.database.sql.query<{ id: string; status: string; last_sequence: number }>(
        `SELECT id, status, last_sequence FROM call WHERE id = ANY($1)`,
        [ids],
      );
      for (const row of rows) expect(row.status).toBe(path.get(row.id)!.at(-1));

      // Sequences are 1..n per call with no gap, and the log holds exactly the applied transitions.
      const events = await gw.database.sql.query<{ call_id: string; sequence: number }>(
        `SELECT call_id, sequence FROM call_event WHERE call_id = ANY($1) ORDER BY call_id, sequence`,
        [ids],
      );
      expect(events).toHaveLength(100 + appliedCount);
      const byCall = new Map<string, number[]>();
      for (const event of events) byCall.set(event.call_id, [...(byCall.get(event.call_id) ?? []), event.sequence]);
      for (const [callId, sequences] of byCall) {
        expect(sequences).toEqual(sequences.map((_, index) => index + 1));
        expect(rows.find((row) => row.id === callId)!.last_sequence).toBe(sequences.length);
      }

      // The subscriber (to every call) receives exactly the applied transitions, each call's in order.
      const received = await sub.until((items) => items.length >= appliedCount);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received).toHaveLength(appliedCount);
      const receivedByCall = new Map<string, number[]>();
      for (const event of received) receivedByCall.set(event.call.id, [...(receivedByCall.get(event.call.id) ?? []), event.sequence]);
      for (const [callId, sequences] of receivedByCall) {
        expect(sequences).toEqual(byCall.get(callId)!.slice(1));
      }
      // Log positions are strictly increasing in delivery order.
      const positions = received.map((event) => BigInt(Buffer.from(event.cursor, 'base64url').toString().split('|')[1]!));
      expect(positions.every((position, index) => index === 0 || position > positions[index - 1]!)).toBe(true);
      sub.stop();
    } finally {
      await client.dispose();
    }
  }, 60_000);

  it('a late or duplicated callback never moves a call back nor adds an event', async () => {
    const app = await newApp(gw.admin);
    const [id] = await liveCalls(app, 1);
    const apply = (status: CallStatus) => gw.gateway.lifecycle.apply({ callId: id!, status });
    expect(await apply(CallStatus.IN_PROGRESS)).not.toBeNull(); // RINGING skipped: late
    expect(await apply(CallStatus.RINGING)).toBeNull();
    expect(await apply(CallStatus.IN_PROGRESS)).toBeNull();
    expect(await apply(CallStatus.BUSY)).toBeNull(); // not reachable from IN_PROGRESS
    expect((await apply(CallStatus.COMPLETED))!.call).toMatchObject({ status: CallStatus.COMPLETED, endReason: 'hangup', duration: 0 });
    expect(await apply(CallStatus.FAILED)).toBeNull();
    const events = await gw.database.sql.query<{ status: string }>(`SELECT status FROM call_event WHERE call_id = $1 ORDER BY sequence`, [id]);
    expect(events.map((event) => event.status)).toEqual(['initiated', 'in_progress', 'completed']);
  });
});

describe('resuming a subscription with a cursor', () => {
  it('a subscriber that disconnects mid-stream and resubscribes with its last cursor misses nothing and gets nothing twice', async () => {
    const app = await newApp(gw.admin);
    const expected = async () =>
      (
        await gw.database.sql.query<{ id: string }>(
          `SELECT id FROM call_event WHERE app_id = $1 AND mode = 'test' AND position IS NOT NULL ORDER BY position`,
          [app.id],
        )
      ).map((row) => row.id);
    const place = (n: number) =>
      Promise.all(Array.from({ length: n }, () => gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } })));

    const first = wsClient(gw.wsUrl, app.testKey);
    const before = gw.gateway.liveSubscriptions;
    const sub1 = collect(first, CALL_STATUS, {});
    await listenersRegistered(gw, before + 1);
    await place(5);
    const seen = await sub1.until((items) => items.length >= 7);
    // Drop the socket mid-stream; calls keep changing while nobody listens.
    await first.dispose();
    const received = [...seen];
    await place(5);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const second = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub2 = collect(second, CALL_STATUS, { after: received.at(-1)!.cursor });
      // 10 calls × 4 events, once every lifecycle has finished.
      await sub2.until((items) => received.length + items.length >= 40, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      received.push(...sub2.items);
      const ids = received.map((event) => event.id);
      expect(new Set(ids).size).toBe(ids.length); // 0 duplicates
      expect(ids).toEqual(await expected()); // 0 missing, in log order
      expect(ids).toHaveLength(40);
    } finally {
      await second.dispose();
    }
  }, 30_000);

  it("one call's stream resumes by sequence from a cursor of that call", async () => {
    const app = await newApp(gw.admin);
    const created = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550005' } });
    const id = created.data!.createCall.call!.id;
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub = collect(client, CALL_STATUS, { callId: id });
      const [current] = await sub.until((items) => items.length >= 1);
      sub.stop();
      const resumed = collect(client, CALL_STATUS, { callId: id, after: current!.cursor });
      await resumed.until((items) => items.at(-1)?.status === 'COMPLETED');
      expect(resumed.items.map((event) => event.sequence)).toEqual(Array.from({ length: 4 - current!.sequence }, (_, index) => current!.sequence + index + 1));
      resumed.stop();
    } finally {
      await client.dispose();
    }
  });
});

describe('subscription isolation', () => {
  it('a subscriber of another application, or of the other mode, never receives the events, whatever its filter', async () => {
    const a = await newApp(gw.admin);
    const b = await newApp(gw.admin);
    const clients = [wsClient(gw.wsUrl, b.testKey), wsClient(gw.wsUrl, a.liveKey), wsClient(gw.wsUrl, b.liveKey)];
    const own = wsClient(gw.wsUrl, a.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const filters = [{}, { toAddress: '+15005550001' }, { fromAddress: a.number }, { metadata: { owner: 'a' } }, { status: ['COMPLETED'] }];
      const intruders = clients.flatMap((client) => filters.map((filter) => collect(client, CALL_STATUS, { filter })));
      const mine = collect(own, CALL_STATUS, {});
      await listenersRegistered(gw, before + intruders.length + 1);
      await gql(gw.url, a.testKey, CreateCallDocument, { input: { from: a.number, to: '+15005550001', metadata: { owner: 'a' } } });
      await mine.until((items) => items.length >= 4);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const intruder of intruders) expect(intruder.items).toEqual([]);
    } finally {
      await Promise.all([...clients, own].map((client) => client.dispose()));
    }
  });
});
