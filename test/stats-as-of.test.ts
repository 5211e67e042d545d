import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, holdStatements, newApp, rawGql, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';

// A dashboard reads callStats, then follows callStatus from the figures' own place in the log
// (CallStats.asOf): each change is counted once, whether it was committed before the read, while
// the read was held at the database, or after it, and even when the log had not numbered it yet.
let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  // Fast: test calls to +15005550006 are answered at once and stay IN_PROGRESS until hung up.
  gw = await bootGateway({ simulator: 'fast' });
  app = await newApp(gw.admin, 'as-of');
});
afterAll(() => gw?.stop());

const range = () => ({ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() });
const STATS = `query($from: DateTime!, $to: DateTime!) {
  callStats(from: $from, to: $to, groupBy: [STATUS]) { total { count } groups { key { status } count } asOf countedAfterAsOf }
}`;
const LIVE = `subscription($after: String) { callStatus(after: $after) { id status previousStatus kind call { id } } }`;

type Counts = Record<string, number>;
async function stats(): Promise<{ counts: Counts; total: number; asOf: string | null; countedAfterAsOf: string[] | null }> {
  const answer = await rawGql(gw.url, app.testKey, { query: STATS, variables: range() });
  expect(answer.errors).toBeUndefined();
  const s = answer.data.callStats;
  return {
    counts: Object.fromEntries(s.groups.map((group: any) => [group.key.status, group.count])),
    total: s.total.count,
    asOf: s.asOf,
    countedAfterAsOf: s.countedAfterAsOf,
  };
}

const statusOf = async (id: string) =>
  (await rawGql(gw.url, app.testKey, { query: `query($id: ID!) { call(id: $id) { status } }`, variables: { id } })).data.call.status as string;

/** A call IN_PROGRESS (answered, and it stays so). */
async function place(): Promise<string> {
  const answer = await rawGql(gw.url, app.testKey, {
    query: `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } userErrors { code } } }`,
    variables: { input: { from: app.number, to: '+15005550006' } },
  });
  const id = answer.data.createCall.call.id as string;
  await eventually(async () => (await statusOf(id)) === 'IN_PROGRESS', 10_000, 'the call to be answered');
  return id;
}

/** Hangs the call up and waits until it is COMPLETED (committed). */
async function hangup(id: string): Promise<void> {
  const answer = await rawGql(gw.url, app.testKey, {
    query: `mutation($input: CallIdInput!) { hangupCall(input: $input) { userErrors { code } command { status } } }`,
    variables: { input: { callId: id } },
  });
  expect(answer.data.hangupCall.userErrors).toEqual([]);
  await eventually(async () => (await statusOf(id)) === 'COMPLETED', 10_000, 'the hangup to apply');
}

/** Adds a status change to the counts, as a dashboard does. */
function apply(counts: Counts, event: { kind: string; status: string; previousStatus: string | null }): void {
  if (event.kind !== 'STATUS_CHANGED') return;
  if (event.previousStatus) counts[event.previousStatus] = (counts[event.previousStatus] ?? 0) - 1;
  counts[event.status] = (counts[event.status] ?? 0) + 1;
}
const nonZero = (counts: Counts) => Object.fromEntries(Object.entries(counts).filter(([, count]) => count !== 0));

describe('callStats.asOf and callStatus(after: asOf)', () => {
  it('changes before, during (the read held at the database) and after the read are each counted once, unnumbered ones included', async () => {
    const [a, b, c, d, e] = [await place(), await place(), await place(), await place(), await place()];
    await hangup(a); // before the read

    // The log's sequencer is held: a change committed now is not numbered when the read runs.
    const sql = gw.database.sql;
    const original = sql.query;
    let releaseSequencer!: () => void;
    const sequencerHeld = new Promise<void>((resolve) => (releaseSequencer = resolve));
    sql.query = async function (this: typeof sql, text: string, values: unknown[] = [], name?: string) {
      if (/calls_gateway_sequence_events/.test(text)) await sequencerHeld;
      return original.call(this, text, values, name);
    } as typeof original;
    let snapshot: Awaited<ReturnType<typeof stats>>;
    try {
      await hangup(b); // committed, not numbered
      // The read itself is held at the database while c changes: it runs after, and counts c.
      const gate = holdStatements(gw, /GROUPING SETS/, app.id);
      const read = stats();
      await eventually(() => gate.state.entered === 1, 10_000, 'the read to reach the database');
      await hangup(c);
      gate.release();
      snapshot = await read;
    } finally {
      sql.query = original;
      releaseSequencer();
    }
    expect(snapshot.asOf).toEqual(expect.any(String));
    // b and c were committed before the read but numbered after it: listed, to skip.
    expect(snapshot.countedAfterAsOf!.length).toBeGreaterThanOrEqual(1);
    expect(snapshot.counts).toEqual({ COMPLETED: 3, IN_PROGRESS: 2 });

    // After the read: two more changes. The subscription from asOf brings those, once each.
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub = collect(client, LIVE, { after: snapshot.asOf });
      await hangup(d);
      await hangup(e);
      const skip = new Set(snapshot.countedAfterAsOf);
      const counts = { ...snapshot.counts };
      const received = await sub.until((items) => items.filter((item) => !skip.has(item.id) && item.status === 'COMPLETED').length >= 2);
      sub.stop();
      const fresh = received.filter((item) => !skip.has(item.id));
      for (const event of fresh) apply(counts, event);
      // Exactly d's and e's endings are new; a, b and c's are not delivered, or are skipped.
      expect(fresh.filter((item) => item.status === 'COMPLETED').map((item) => item.call.id)).toEqual([d, e]);
      const now = await stats();
      expect(nonZero(counts)).toEqual(nonZero(now.counts));
      expect(now.counts).toEqual({ COMPLETED: 5 });
    } finally {
      await client.dispose();
    }
  });

  it('asOf is refused as the cursor of one call, and a made-up one is BAD_USER_INPUT', async () => {
    const { asOf } = await stats();
    const id = await place();
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const sub = collect(client, `subscription($id: ID!, $after: String) { callStatus(callId: $id, after: $after) { id } }`, { id, after: asOf });
      await expect(sub.until(() => false, 5_000)).rejects.toThrow(/cursor of another call/);
    } finally {
      await client.dispose();
    }
    const forged = Buffer.from('e1|99999999999999999999|-|0').toString('base64url');
    const answer = await rawGql(gw.url, app.testKey, {
      query: `subscription($after: String) { callStatus(after: $after) { id } }`,
      variables: { after: forged },
    });
    expect(answer.errors?.[0]?.extensions?.code).toBeDefined();
  });
});
