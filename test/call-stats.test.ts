import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rawGql, statementsSent, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, wsClient } from './helpers/ws.js';
import { CreateCallDocument } from './gql/graphql.js';

// callStats through GraphQL over HTTP and WebSocket, against figures computed here from the same
// rows. Rows are shaped with SQL (times, statuses, durations): the lifecycle is tested elsewhere.
let gw: TestGateway;
let app: TestApp;
const T0 = Date.parse('2026-11-30T10:00:00Z');
/** [minutes after T0, status, direction, toChannel, endReason, answered, duration, team] */
const ROWS: [number, string, string, string, string | null, boolean, number | null, string][] = [
  [0, 'completed', 'outbound', 'pstn', 'hangup', true, 60, 'a'],
  [1, 'completed', 'outbound', 'pstn', 'hangup', true, 120, 'a'],
  [1, 'busy', 'outbound', 'pstn', 'busy', false, 0, 'a'],
  [2, 'no_answer', 'outbound', 'webrtc', 'no_answer', false, 0, 'b'],
  [61, 'completed', 'inbound', 'pstn', 'voicemail', true, 30, 'b'],
  [62, 'in_progress', 'outbound', 'whatsapp', null, true, null, 'a'],
  [125, 'completed', 'outbound', 'webrtc', 'time_limit', true, 600, 'b'],
];
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const FROM = at(0);
const TO = at(180);

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'frozen' });
  app = await newApp(gw.admin);
  const other = await newApp(gw.admin);
  for (const [minute, status, direction, toChannel, endReason, answered, duration, team] of ROWS) {
    for (const owner of [app, other]) {
      const input = { from: owner.number, to: toChannel === 'webrtc' ? 'agent-1' : '+15551234567', toChannel: toChannel.toUpperCase(), metadata: { team } };
      const id = (await gql(gw.url, owner.testKey, CreateCallDocument, { input: input as never })).data!.createCall.call!.id;
      await gw.database.sql.query(
        `UPDATE call SET created_at = $2, status = $3, direction = $4, end_reason = $5,
                answered_at = CASE WHEN $6 THEN $2::timestamptz + interval '5 seconds' END, duration = $7,
                from_channel = CASE WHEN $4 = 'inbound' THEN to_channel ELSE from_channel END WHERE id = $1`,
        [id, at(minute), status, direction, endReason, answered, duration],
      );
    }
  }
  // The other application's copies must never count here; one more of its calls makes the totals differ.
  await gql(gw.url, other.testKey, CreateCallDocument, { input: { from: other.number, to: '+15551234567' } });
  await gw.database.sql.query(`UPDATE call SET created_at = $2 WHERE app_id = $1 AND status = 'initiated'`, [other.id, at(3)]);
});
afterAll(() => gw.stop());

/** percentile_cont(0.95): linear interpolation between the closest ranks. */
function p95(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = 0.95 * (sorted.length - 1);
  const low = Math.floor(rank);
  return sorted[low]! + (sorted[Math.ceil(rank)]! - sorted[low]!) * (rank - low);
}
function expected(rows: typeof ROWS) {
  const durations = rows.filter((row) => row[5] && row[6] !== null).map((row) => row[6]!);
  return {
    count: rows.length,
    answered: rows.filter((row) => row[5]).length,
    answerRate: rows.length ? rows.filter((row) => row[5]).length / rows.length : null,
    averageDuration: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    p95Duration: p95(durations),
  };
}
const STATS = `query($from: DateTime!, $to: DateTime!, $groupBy: [CallStatsGroup!], $filter: CallFilter) {
  callStats(from: $from, to: $to, groupBy: $groupBy, filter: $filter) {
    total { count answered answerRate averageDuration p95Duration }
    groups { key { status channel direction endReason period } count answered answerRate averageDuration p95Duration }
  }
}`;
async function stats(variables: Record<string, unknown>) {
  const response = await rawGql(gw.url, app.testKey, { query: STATS, variables: { from: FROM, to: TO, ...variables } });
  expect(response.errors).toBeUndefined();
  return response.data.callStats;
}
const close = (value: number | null) => (value === null ? null : expect.closeTo(value, 6));
const figures = (rows: typeof ROWS) => {
  const e = expected(rows);
  return { ...e, answerRate: close(e.answerRate), averageDuration: close(e.averageDuration), p95Duration: close(e.p95Duration) };
};

describe('callStats', () => {
  it('the total: counts, answer rate, mean and p95 duration of the answered calls that ended; only this application', async () => {
    expect((await stats({})).total).toEqual(figures(ROWS));
  });

  it('groupBy STATUS and DIRECTION', async () => {
    const result = await stats({ groupBy: ['STATUS', 'DIRECTION'] });
    const keys = [...new Set(ROWS.map((row) => `${row[1]}|${row[2]}`))].sort();
    expect(result.groups.map((group: any) => `${group.key.status.toLowerCase()}|${group.key.direction.toLowerCase()}`).sort()).toEqual(keys);
    for (const group of result.groups) {
      const rows = ROWS.filter((row) => row[1] === group.key.status.toLowerCase() && row[2] === group.key.direction.toLowerCase());
      expect(group).toMatchObject(figures(rows));
      expect(group.key).toMatchObject({ channel: null, endReason: null, period: null });
    }
  });

  it('groupBy HOUR: periods of createdAt in UTC, oldest first, with their figures', async () => {
    const result = await stats({ groupBy: ['HOUR'] });
    expect(result.groups.map((group: any) => group.key.period)).toEqual([at(0), at(60), at(120)]);
    expect(result.groups.map((group: any) => group.count)).toEqual([4, 2, 1]);
    expect(result.groups[0]).toMatchObject(figures(ROWS.filter((row) => row[0] < 60)));
  });

  it("groupBy CHANNEL (the remote party's) and END_REASON, with a filter", async () => {
    const result = await stats({ groupBy: ['CHANNEL', 'END_REASON'], filter: { metadata: { team: 'b' } } });
    const rows = ROWS.filter((row) => row[7] === 'b');
    expect(result.total).toEqual(figures(rows));
    expect(result.groups.map((group: any) => [group.key.channel, group.key.endReason, group.count])).toEqual([
      ['PSTN', 'VOICEMAIL', 1],
      ['WEBRTC', 'NO_ANSWER', 1],
      ['WEBRTC', 'TIME_LIMIT', 1],
    ]);
  });

  it('over WebSocket too (a query operation on the graphql-ws connection)', async () => {
    const client = wsClient(gw.wsUrl, app.testKey);
    try {
      const result = collect(client, STATS, { from: FROM, to: TO, groupBy: ['MINUTE'] }, 'callStats');
      const [first] = await result.until((items) => items.length >= 1);
      expect(first.total.count).toBe(ROWS.length);
      expect(first.groups.map((group: any) => group.key.period)).toEqual([...new Set(ROWS.map((row) => at(row[0])))]);
    } finally {
      await client.dispose();
    }
  });

  it('an empty range: a total of 0 and no groups', async () => {
    expect(await stats({ from: at(-60), to: at(-1), groupBy: ['STATUS'] })).toEqual({
      total: { count: 0, answered: 0, answerRate: null, averageDuration: null, p95Duration: null },
      groups: [],
    });
  });

  it.each([
    [{ groupBy: ['MINUTE'], to: at(24 * 60 + 1) }, 'to', /at most 1 day when grouped by MINUTE/],
    [{ groupBy: ['HOUR'], to: at(32 * 24 * 60) }, 'to', /at most 31 days/],
    [{ to: at(367 * 24 * 60) }, 'to', /at most 366 days/],
    [{ groupBy: ['HOUR', 'DAY'] }, 'groupBy', /one period at most/],
    [{ to: FROM }, 'to', /after "from"/],
  ])('%j is refused (BAD_USER_INPUT on %s)', async (variables, argument, message) => {
    const response = await rawGql(gw.url, app.testKey, { query: STATS, variables: { from: FROM, to: TO, ...variables } });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: argument });
    expect(response.errors?.[0]?.message).toMatch(message);
  });

  it('is an index-only scan of call_tenant_created_idx (no heap fetch per call): EXPLAIN of the statement the gateway sends', async () => {
    await gw.database.sql.query('VACUUM (ANALYZE) call');
    const [statement] = await statementsSent(gw, /GROUPING SETS/, () =>
      rawGql(gw.url, app.testKey, { query: STATS, variables: { from: FROM, to: TO, groupBy: ['STATUS', 'CHANNEL', 'END_REASON', 'HOUR'] } }),
    );
    expect(statement).toBeDefined();
    const client = await gw.database.sql.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query('SET LOCAL enable_bitmapscan = off');
      const { rows } = await client.query(`EXPLAIN ${statement!.text}`, statement!.values);
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Only Scan using call_tenant_created_idx/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
