import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bootGateway, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { CALL_COLUMNS, EVENT_WITH_CALL_COLUMNS, toEventWithCall } from '../src/db/call-columns.js';
import { Where } from '../src/db/where.js';
import { callMatches, matchesFilter } from '../src/domain/filter-match.js';
import { validateFilter } from '../src/domain/call-validation.js';
import { FILTER_FIELDS } from '../src/domain/call-filter-fields.js';
import { AnsweredBy, CallDirection, CallStatus, Channel, EndReason, type Call } from '../src/domain/call.js';
import type { CallFilter, Viewer } from '../src/domain/call-store.js';

// Every CallFilter field has one definition (domain/call-filter-fields.ts) read two ways: as SQL
// (db/call-filter-sql.ts: calls, callStats, totalCount, replay) and in memory (domain/filter-match.ts:
// callStatus's live events, fan-out groups, a token's filter on live events). Here the two are
// compared on random calls and random filters of every field, small universes so that both
// answers come up: the rows PostgreSQL returns must be exactly those the in-memory predicate keeps.
const T0 = Date.UTC(2026, 0, 1);
const instant = fc.integer({ min: 0, max: 5 }).map((k) => new Date(T0 + k * 1_000));
const nullableInstant = fc.option(instant, { nil: null });
const ADDRESSES = ['+15550000001', '+15550000002', 'alice'];
const DURATIONS = [0, 1, 60, 240];
const values = <T>(e: Record<string, T>) => Object.values(e);
const metadataValue = fc.constantFrom<unknown>(1, 'x', true, [1], { c: 1 });
const metadata = fc.dictionary(fc.constantFrom('a', 'b'), metadataValue, { maxKeys: 2 });

const callArb = fc.record({
  status: fc.constantFrom(...values(CallStatus)),
  eventStatus: fc.constantFrom(...values(CallStatus)),
  direction: fc.constantFrom(...values(CallDirection)),
  fromChannel: fc.constantFrom(...values(Channel)),
  toChannel: fc.constantFrom(...values(Channel)),
  fromAddress: fc.constantFrom(...ADDRESSES),
  toAddress: fc.constantFrom(...ADDRESSES),
  createdAt: instant,
  metadata,
  startedAt: nullableInstant,
  answeredAt: nullableInstant,
  endedAt: nullableInstant,
  endReason: fc.option(fc.constantFrom(...values(EndReason)), { nil: null }),
  answeredBy: fc.option(fc.constantFrom(...values(AnsweredBy)), { nil: null }),
  duration: fc.option(fc.constantFrom(...DURATIONS), { nil: null }),
});

const list = <T>(of: T[]) => fc.subarray(of, { maxLength: 3 });
const timeRange = fc.record({ from: instant, to: instant }, { requiredKeys: [] });
/** A generator for every field of CallFilter: a field added to the filter without one here fails to compile. */
const FIELD_ARBS: { [K in keyof CallFilter]-?: fc.Arbitrary<NonNullable<CallFilter[K]>> } = {
  status: list(values(CallStatus)),
  direction: fc.constantFrom(...values(CallDirection)),
  fromChannel: list(values(Channel)),
  toChannel: list(values(Channel)),
  fromAddress: fc.constantFrom(...ADDRESSES),
  toAddress: fc.constantFrom(...ADDRESSES),
  createdAfter: instant,
  createdBefore: instant,
  metadata,
  startedAt: timeRange,
  answeredAt: timeRange,
  endedAt: timeRange,
  endReason: list(values(EndReason)),
  answeredBy: list(values(AnsweredBy)),
  duration: fc.record({ min: fc.constantFrom(...DURATIONS), max: fc.constantFrom(...DURATIONS) }, { requiredKeys: [] }),
};
/** Filters of up to `most` fields (of every kind), as validation accepts them. */
const filterOf = (most: number): fc.Arbitrary<CallFilter> =>
  fc
    .shuffledSubarray(Object.keys(FIELD_ARBS) as (keyof CallFilter)[], { maxLength: most })
    .chain((fields) => fc.record(Object.fromEntries(fields.map((field) => [field, FIELD_ARBS[field]])) as { [K in keyof CallFilter]: fc.Arbitrary<never> }))
    .filter((filter) => {
      try {
        validateFilter(filter as CallFilter);
        return true;
      } catch {
        return false;
      }
    }) as fc.Arbitrary<CallFilter>;
const filterArb = filterOf(3);
const scopeArb = fc.option(filterOf(1), { nil: undefined });

let gw: TestGateway;
let app: TestApp;
beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin, 'filters');
  // Live mode: the simulator leaves these rows alone. Each call gets one event, whose status may differ from the call's.
  const calls = fc.sample(callArb, { numRuns: 80, seed: 17 });
  for (const [i, call] of calls.entries()) {
    const id = `call_fe${String(i).padStart(4, '0')}`;
    await gw.database.sql.query(
      `WITH c AS (
         INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel, created_at, metadata,
                           started_at, answered_at, ended_at, end_reason, answered_by, duration)
         VALUES ($1, $2, 'live', $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16) RETURNING id)
       INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, occurred_at) SELECT $17, id, $2, 'live', 1, $18, $9 FROM c`,
      [
        id,
        app.id,
        call.direction,
        call.status,
        call.fromAddress,
        call.toAddress,
        call.fromChannel,
        call.toChannel,
        call.createdAt,
        JSON.stringify(call.metadata),
        call.startedAt,
        call.answeredAt,
        call.endedAt,
        call.endReason,
        call.answeredBy,
        call.duration,
        `evt_fe${String(i).padStart(4, '0')}`,
        call.eventStatus,
      ],
    );
  }
});
afterAll(() => gw?.stop());

describe('CallFilter: SQL and the in-memory match agree for every field', () => {
  it('the generators cover every field of FILTER_FIELDS', () => {
    expect(Object.keys(FIELD_ARBS).sort()).toEqual(Object.keys(FILTER_FIELDS).sort());
  });

  it('calls: the rows SQL selects are the calls callMatches keeps, with and without a token filter ANDed', async () => {
    const viewer = (scope?: CallFilter): Viewer => ({ appId: app.id, mode: 'live', scope });
    const calls = await gw.database.sql.query<Call>(`SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 ORDER BY id`, [app.id]);
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(filterArb, scopeArb, async (filter, scope) => {
        const where = new Where(viewer(scope)).filter(filter);
        const rows = await gw.database.sql.query<{ id: string }>(`SELECT id FROM call WHERE ${where.toString()} ORDER BY id`, where.values);
        const expected = calls.filter((call) => callMatches(call, filter) && (!scope || callMatches(call, scope))).map((call) => call.id);
        if (expected.length > 0) nonEmpty++;
        expect(rows.map((row) => row.id)).toEqual(expected);
      }),
      { numRuns: 400, seed: 23 },
    );
    // The universes are small enough that filters select something most of the time.
    expect(nonEmpty).toBeGreaterThan(100);
  });

  it('events: a stream filters on the event’s status and the call’s other fields alike in SQL (replay) and in memory (live)', async () => {
    const rows = await gw.database.sql.query<Record<string, unknown>>(
      `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id WHERE c.app_id = $1 ORDER BY e.id`,
      [app.id],
    );
    const events = rows.map(toEventWithCall);
    await fc.assert(
      fc.asyncProperty(filterArb, scopeArb, async (filter, scope) => {
        const where = new Where({ appId: app.id, mode: 'live', scope }, 'c.', 'e.status').filter(filter);
        const selected = await gw.database.sql.query<{ id: string }>(
          `SELECT e.id FROM call_event e JOIN call c ON c.id = e.call_id WHERE ${where.toString()} ORDER BY e.id`,
          where.values,
        );
        const expected = events.filter((event) => matchesFilter(event, filter) && (!scope || matchesFilter(event, scope))).map((event) => event.id);
        expect(selected.map((row) => row.id)).toEqual(expected);
      }),
      { numRuns: 300, seed: 29 },
    );
  });
});
