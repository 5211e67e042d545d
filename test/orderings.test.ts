import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, listenersRegistered, newApp, rawGql, statementsSent, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { PgCallStore } from '../src/db/pg-call-store.js';
import type { CallFilter as DomainCallFilter } from '../src/domain/call-store.js';
import { callMatches } from '../src/domain/filter-match.js';
import { CountCallsDocument, CreateCallDocument, ListCallsDocument, type CallFilter, type CallOrderField } from './gql/graphql.js';

// calls(filter:) by startedAt, answeredAt, endedAt, endReason and duration; calls(orderBy:) by
// CREATED_AT, STARTED_AT, ENDED_AT and DURATION in both directions, with keyset cursors; each
// order served by an index (EXPLAIN). Times are set with SQL: the lifecycle is tested elsewhere.
let gw: TestGateway;
let app: TestApp;
const ids: string[] = [];
/** Per call: started, answered, ended (minutes after T0, null: not set), duration, endReason. */
const ROWS: [number | null, number | null, number | null, number | null, string | null][] = [
  [0, 1, 5, 240, 'hangup'],
  [2, null, 3, 0, 'no_answer'],
  [4, 5, 9, 240, 'hangup'], // same duration as the first: the tie is broken by id
  [6, null, null, null, null], // ringing now
  [null, null, 8, 0, 'failed'], // never rang
  [8, 9, 10, 60, 'time_limit'],
  [null, null, null, null, null], // just created
];
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** The GraphQL filter as the resolvers hand it to the domain: DateTime strings as Dates, enum names as stored values. */
function asDomainFilter(filter: CallFilter): DomainCallFilter {
  const times = (range: { from?: unknown; to?: unknown } | null | undefined) =>
    range && { from: range.from == null ? null : new Date(range.from as string), to: range.to == null ? null : new Date(range.to as string) };
  return {
    ...(filter as DomainCallFilter),
    startedAt: times(filter.startedAt),
    answeredAt: times(filter.answeredAt),
    endedAt: times(filter.endedAt),
    answeredBy: (filter.answeredBy as string[] | null | undefined)?.map((value) => value.toLowerCase()) as DomainCallFilter['answeredBy'],
    endReason: (filter.endReason as string[] | null | undefined)?.map((value) => value.toLowerCase()) as DomainCallFilter['endReason'],
  };
}
const at = (minutes: number | null) => (minutes === null ? null : new Date(T0 + minutes * 60_000).toISOString());

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
  for (const [index, [started, answered, ended, duration, reason]] of ROWS.entries()) {
    const { data } = await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15551234567', metadata: { index } } });
    const id = data!.createCall.call!.id;
    ids.push(id);
    await gw.database.sql.query(
      `UPDATE call SET started_at = $2, answered_at = $3, ended_at = $4, duration = $5, end_reason = $6,
              status = CASE WHEN $4::timestamptz IS NULL THEN status ELSE 'completed' END, created_at = $7,
              answered_by = CASE WHEN $3::timestamptz IS NULL THEN NULL WHEN $8 = 'time_limit' THEN 'machine' ELSE 'human' END WHERE id = $1`,
      [id, at(started), at(answered), at(ended), duration, reason, at(index - 100), reason],
    );
  }
});
afterAll(() => gw.stop());

/** Indexes of ROWS matching, as `calls` lists them (and totalCount agrees). */
async function matching(filter: CallFilter): Promise<number[]> {
  const list = await gql(gw.url, app.testKey, ListCallsDocument, { filter, first: 100, orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
  expect(list.errors).toBeUndefined();
  const count = await gql(gw.url, app.testKey, CountCallsDocument, { filter });
  expect(count.data!.calls.totalCount).toBe(list.data!.calls.nodes.length);
  const listed = list.data!.calls.nodes.map((node) => ids.indexOf(node.id));
  // callStatus matches each live event in memory (domain/filter-match.ts): the same answer as SQL.
  const calls = await new PgCallStore(gw.database.sql, { concurrent: 1, waiting: 0 }).findByIds({ appId: app.id, mode: 'test' }, ids);
  const inMemory = calls.filter((call) => callMatches(call, asDomainFilter(filter))).map((call) => ids.indexOf(call.id));
  expect(
    inMemory.sort((a, b) => a - b),
    'the in-memory match',
  ).toEqual([...listed].sort((a, b) => a - b));
  return listed;
}

describe('calls(filter:) by times, end reason and duration', () => {
  it.each<[string, CallFilter, number[]]>([
    ['startedAt from (inclusive)', { startedAt: { from: at(4) } }, [2, 3, 5]],
    ['startedAt to (exclusive)', { startedAt: { to: at(4) } }, [0, 1]],
    ['startedAt range', { startedAt: { from: at(2), to: at(7) } }, [1, 2, 3]],
    ['answeredAt', { answeredAt: { from: at(0) } }, [0, 2, 5]],
    ['endedAt', { endedAt: { from: at(8), to: at(10) } }, [2, 4]],
    ['endReason (any of)', { endReason: ['NO_ANSWER', 'FAILED'] }, [1, 4]],
    ['endReason time_limit', { endReason: ['TIME_LIMIT'] }, [5]],
    ['duration min and max (inclusive)', { duration: { min: 60, max: 240 } }, [0, 2, 5]],
    ['duration exactly 0', { duration: { min: 0, max: 0 } }, [1, 4]],
    ['duration min only', { duration: { min: 61 } }, [0, 2]],
    ['an open range matches the calls that have the field: endedAt {} is "has ended"', { endedAt: {} }, [0, 1, 2, 4, 5]],
    ['an open duration range: calls with a duration', { duration: {} }, [0, 1, 2, 4, 5]],
    ['combined with AND', { endReason: ['HANGUP'], startedAt: { from: at(1) } }, [2]],
    ['answeredBy (any of)', { answeredBy: ['MACHINE'] }, [5]],
    ['answeredBy HUMAN or FAX', { answeredBy: ['HUMAN', 'FAX'] }, [0, 2]],
  ])('%s', async (_name, filter, expected) => {
    expect(await matching(filter)).toEqual(expected);
  });

  it.each([
    [{ duration: { min: 10, max: 5 } }, 'filter.duration'],
    [{ duration: { min: -1 } }, 'filter.duration.min'],
    [{ duration: { max: 1_000_000_000 } }, 'filter.duration.max'],
    [{ endedAt: { from: at(5), to: at(1) } }, 'filter.endedAt'],
    [{ endReason: Array(17).fill('HANGUP') }, 'filter.endReason'],
    [{ answeredBy: Array(17).fill('HUMAN') }, 'filter.answeredBy'],
  ])('%j is refused with the argument named (BAD_USER_INPUT)', async (filter, argument) => {
    const response = await rawGql(gw.url, app.testKey, { query: `query($f: CallFilter) { calls(filter: $f) { nodes { id } } }`, variables: { f: filter } });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: argument });
  });

  it('callStatus applies the same filter to live events: only calls that ended for the reason arrive', async () => {
    const own = await newApp(gw.admin);
    const client = wsClient(gw.wsUrl, own.testKey);
    try {
      const before = gw.gateway.liveSubscriptions;
      const sub = collect(client, `subscription { callStatus(filter: { endReason: [BUSY], duration: { max: 0 } }) { status call { id endReason } } }`, {});
      await listenersRegistered(gw, before + 1);
      const busy = (await gql(gw.url, own.testKey, CreateCallDocument, { input: { from: own.number, to: '+15551230001' } })).data!.createCall.call!.id;
      const other = (await gql(gw.url, own.testKey, CreateCallDocument, { input: { from: own.number, to: '+15551230002' } })).data!.createCall.call!.id;
      await gw.gateway.lifecycle.apply({ callId: other, status: 'no_answer' as never, endReason: 'no_answer' as never });
      await gw.gateway.lifecycle.apply({ callId: busy, status: 'busy' as never, endReason: 'busy' as never });
      const events = await sub.until((items) => items.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      sub.stop();
      expect(sub.items).toEqual([{ status: 'BUSY', call: { id: busy, endReason: 'BUSY' } }]);
      expect(events[0]!.call.id).toBe(busy);
    } finally {
      await client.dispose();
    }
  });
});

const list = (variables: Record<string, unknown>) => gql(gw.url, app.testKey, ListCallsDocument, variables);

/** Every page of a listing, `first` 2 at a time forwards (or `last` 2 backwards), as row indexes. */
async function walk(field: CallOrderField, direction: 'ASC' | 'DESC', backwards = false): Promise<number[]> {
  const seen: number[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 20; pages++) {
    const variables: Record<string, unknown> = backwards
      ? { last: 2, before: cursor, orderBy: { field, direction } }
      : { first: 2, after: cursor, orderBy: { field, direction } };
    const response: Awaited<ReturnType<typeof list>> = await list({ ...variables, filter: { metadata: {} } });
    expect(response.errors).toBeUndefined();
    const { nodes, pageInfo } = response.data!.calls;
    const page = nodes.map((node) => ids.indexOf(node.id));
    if (backwards) seen.unshift(...page);
    else seen.push(...page);
    const more = backwards ? pageInfo.hasPreviousPage : pageInfo.hasNextPage;
    if (!more) return seen;
    cursor = (backwards ? pageInfo.startCursor : pageInfo.endCursor) ?? null;
  }
  throw new Error('the listing did not end');
}

describe('calls(orderBy:) with keyset cursors', () => {
  it.each<[CallOrderField, number[]]>([
    ['CREATED_AT', [0, 1, 2, 3, 4, 5, 6]],
    ['STARTED_AT', [0, 1, 2, 3, 5]],
    ['ENDED_AT', [1, 0, 4, 2, 5]],
  ])('%s ASC and DESC, forwards and backwards, every call that has the field once, in order', async (field, ascending) => {
    expect(await walk(field, 'ASC')).toEqual(ascending);
    expect(await walk(field, 'DESC')).toEqual([...ascending].reverse());
    expect(await walk(field, 'ASC', true)).toEqual(ascending);
    expect(await walk(field, 'DESC', true)).toEqual([...ascending].reverse());
  });

  it('DURATION: ties are broken by id, in both directions and across pages', async () => {
    const [first, third] = [ids[0]!, ids[2]!];
    const tie = first < third ? [0, 2] : [2, 0];
    const zeros = ids[1]! < ids[4]! ? [1, 4] : [4, 1];
    const ascending = [...zeros, 5, ...tie];
    expect(await walk('DURATION', 'ASC')).toEqual(ascending);
    expect(await walk('DURATION', 'DESC')).toEqual([...ascending].reverse());
    expect(await walk('DURATION', 'DESC', true)).toEqual([...ascending].reverse());
  });

  it('a cursor of one order is refused in another, and a tampered one is refused', async () => {
    const page = await gql(gw.url, app.testKey, ListCallsDocument, { first: 1, orderBy: { field: 'ENDED_AT', direction: 'ASC' } });
    const cursor = page.data!.calls.pageInfo.endCursor!;
    const other = await gql(gw.url, app.testKey, ListCallsDocument, { first: 1, after: cursor, orderBy: { field: 'DURATION', direction: 'ASC' } });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
    expect(other.errors?.[0]?.message).toMatch(/ordered by ENDED_AT, not DURATION/);
    const plain = await gql(gw.url, app.testKey, ListCallsDocument, { first: 1, after: cursor });
    expect(plain.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
    const tampered = Buffer.from(
      Buffer.from(cursor, 'base64url')
        .toString()
        .replace(/\|[^|]+\|call_/, '|not-a-time|call_'),
    ).toString('base64url');
    const bad = await gql(gw.url, app.testKey, ListCallsDocument, { first: 1, after: tampered, orderBy: { field: 'ENDED_AT', direction: 'ASC' } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
  });

  it.each([
    ['CREATED_AT', 'created_at', 'call_tenant_created_idx'],
    ['STARTED_AT', 'started_at', 'call_tenant_started_idx'],
    ['ENDED_AT', 'ended_at', 'call_tenant_ended_idx'],
    ['DURATION', 'duration', 'call_tenant_duration_idx'],
  ])('orderBy %s is served by an index, with no sort: EXPLAIN of the statement the gateway sends for a second page', async (field, _column, index) => {
    const first = await gql(gw.url, app.testKey, ListCallsDocument, { first: 2, orderBy: { field: field as CallOrderField, direction: 'DESC' } });
    const after = first.data!.calls.pageInfo.endCursor!;
    const [statement] = await statementsSent(gw, /FROM call\b[\s\S]*ORDER BY/, () =>
      gql(gw.url, app.testKey, ListCallsDocument, { first: 2, after, orderBy: { field: field as CallOrderField, direction: 'DESC' } }),
    );
    expect(statement).toBeDefined();
    const client = await gw.database.sql.pool.connect();
    try {
      await client.query('BEGIN');
      // The test table is tiny, so the planner would rightly prefer a sequential scan and a sort.
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_sort = off');
      const { rows } = await client.query(`EXPLAIN ${statement!.text}`, statement!.values);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain(index);
      expect(plan).not.toMatch(/Sort/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
