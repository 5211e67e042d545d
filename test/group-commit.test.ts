import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CreateCallDocument } from './gql/graphql.js';
import { CallInsertBatch } from '../src/db/call-insert-batch.js';
import { insertCallValues } from '../src/db/call-columns.js';
import { CallDirection, CallStatus, Channel } from '../src/domain/call.js';
import { Sql } from '../src/db/sql.js';
import { newCallId, newEventId } from '../src/domain/ids.js';

let gw: TestGateway;
let app: TestApp;

beforeAll(async () => {
  // Frozen: the calls stay INITIATED, so each has exactly its one event.
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
});
afterAll(async () => {
  await gw.stop();
});

/** INSERT_CALL's parameters for a plain test call of `app`, as the store builds them. */
function callRow(metadata: Record<string, unknown>): unknown[] {
  return insertCallValues(
    { appId: app.id, mode: 'test' },
    {
      id: newCallId('test'),
      eventId: newEventId(),
      options: {},
      direction: CallDirection.OUTBOUND,
      status: CallStatus.INITIATED,
      fromAddress: app.number,
      toAddress: '+15005550006',
      fromChannel: Channel.PSTN,
      toChannel: Channel.PSTN,
      metadata,
      livekitRoomName: null,
      roomName: null,
      idempotencyKey: null,
      requestFingerprint: null,
      provider: 'simulator',
    },
    true,
  );
}

describe('createCall in groups (one statement per event-loop turn)', () => {
  it('60 concurrent creates of every kind each get their own answer, as one at a time would', async () => {
    const create = (input: Record<string, unknown>) => gql(gw.url, app.testKey, CreateCallDocument, { input: input as never });
    const plain = Array.from({ length: 20 }, (_, i) => create({ from: app.number, to: '+15005550006', metadata: { i } }));
    const unassigned = Array.from({ length: 10 }, () => create({ from: '+15559999999', to: '+15005550006' }));
    const replays = Array.from({ length: 10 }, () => create({ from: app.number, to: '+15005550006', idempotencyKey: 'same-everything' }));
    // One key, two different inputs: whichever lands first wins; the same input replays it, the other is refused.
    const contested = Array.from({ length: 10 }, (_, i) =>
      create({ from: app.number, to: i % 2 ? '+15005550006' : '+15005550007', idempotencyKey: 'contested' }),
    );
    const unstorable = Array.from({ length: 10 }, () => create({ from: app.number, to: '+15005550006', metadata: { bad: 'x\ud800' } }));
    const [plainResults, unassignedResults, replayResults, contestedResults, unstorableResults] = await Promise.all(
      [plain, unassigned, replays, contested, unstorable].map((group) => Promise.all(group)),
    );

    const ids = new Set(plainResults!.map((result) => result.data!.createCall.call!.id));
    expect(ids.size).toBe(20);
    for (const result of plainResults!) expect(result.data!.createCall).toMatchObject({ userErrors: [], replayed: false, call: { status: 'INITIATED' } });
    expect(plainResults!.map((result) => (result.data!.createCall.call!.metadata as { i: number }).i)).toEqual([...Array(20).keys()]);

    for (const result of unassignedResults!)
      expect(result.data!.createCall.userErrors).toEqual([expect.objectContaining({ code: 'PHONE_NUMBER_NOT_ASSIGNED', field: ['input', 'from'] })]);
    for (const result of unstorableResults!)
      expect(result.data!.createCall.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_METADATA', field: ['input', 'metadata'] })]);

    const replayIds = new Set(replayResults!.map((result) => result.data!.createCall.call!.id));
    expect(replayIds.size).toBe(1);
    expect(replayResults!.filter((result) => !result.data!.createCall.replayed)).toHaveLength(1);

    const winner = contestedResults!.find((result) => result.data!.createCall.call && !result.data!.createCall.replayed)!.data!.createCall.call!;
    for (const [i, result] of contestedResults!.entries()) {
      const to = i % 2 ? '+15005550006' : '+15005550007';
      if (to === winner.toAddress) expect(result.data!.createCall.call!.id).toBe(winner.id);
      else
        expect(result.data!.createCall.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    }

    // 20 plain calls, one per idempotency key; each with its one INITIATED event.
    expect(await rowCounts(gw.database, app.id)).toEqual({ calls: 22, events: 22 });
  });

  it('a batch goes as one statement; a row the database refuses fails only its own insert', async () => {
    const sql = new Sql(gw.databaseUrl, 2);
    try {
      const batch = new CallInsertBatch(sql);
      const good = Array.from({ length: 10 }, (_, i) => callRow({ i }));
      const before = sql.statements;
      const inserted = await Promise.all(good.map((values) => batch.insert(values)));
      expect(sql.statements - before).toBe(1);
      expect(inserted.map((call) => call!.id)).toEqual(good.map((values) => values[0]));
      expect(inserted.map((call) => call!.metadata)).toEqual(good.map((_, i) => ({ i })));

      // The domain refuses such metadata first; here it reaches PostgreSQL, which refuses the whole statement.
      const mixed = [callRow({ i: 1 }), callRow({ bad: '\ud800' }), callRow({ i: 3 })];
      const settled = await Promise.allSettled(mixed.map((values) => batch.insert(values)));
      expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason.message).toMatch(/json/);
      const [count] = await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM call_event WHERE call_id = ANY($1)', [mixed.map((values) => values[0])]);
      expect(count!.n).toBe('2');
    } finally {
      await sql.close();
    }
  });

  it('while the statements in flight are at the cap, rows of later turns wait and go together (natural batching)', async () => {
    const sql = new Sql(gw.databaseUrl, 4);
    try {
      const batch = new CallInsertBatch(sql, 100, 1);
      const before = sql.statements;
      const pending: Promise<unknown>[] = [];
      // 10 rows in each of 10 turns of the event loop: one statement per turn without a cap.
      for (let turn = 0; turn < 10; turn++) {
        for (let i = 0; i < 10; i++) {
          pending.push(batch.insert(callRow({})));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const inserted = await Promise.all(pending);
      expect(inserted.every(Boolean)).toBe(true);
      // The first turn's statement is in flight while the next turns queue: a few statements, not 10.
      expect(sql.statements - before).toBeLessThanOrEqual(5);
      expect(sql.statements - before).toBeGreaterThanOrEqual(2);
    } finally {
      await sql.close();
    }
  });
});
