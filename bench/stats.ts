/**
 * callStats and the new listing orders on a large tenant (issue 15): one application with
 * BENCH_STATS_CALLS calls (default 1,000,000) spread over 30 days, written with one SQL statement
 * (generate_series) into the gateway's own tables, then measured through one gateway process
 * (`calls-gateway serve`, NODE_ENV=production) over HTTP: the median and p95 of each query.
 *
 *   npm run bench:stats                    # embedded PostgreSQL (.data/bench, port 54339)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:stats
 *
 * Environment (all optional): BENCH_STATS_CALLS (1000000), BENCH_STATS_ROUNDS (15), BENCH_PG_PORT (54339).
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import {
  benchLog,
  freePort,
  serveGateway,
  createBenchApp,
  fileStamp,
  gitState,
  intEnv,
  machineInfo,
  markdownTable,
  percentile,
  pgPortEnv,
  postGraphQL,
  prepareBenchDatabase,
  ROOT,
  writeReport,
} from './helpers.js';

const CALLS = intEnv('BENCH_STATS_CALLS', 1_000_000, 1_000, 20_000_000);
const ROUNDS = intEnv('BENCH_STATS_ROUNDS', 15, 3, 1_000);
const PG_PORT = pgPortEnv('BENCH_PG_PORT', 54339);
const log = benchLog('bench:stats');
const DAYS = 30;
const END = new Date('2026-12-01T00:00:00Z');
const START = new Date(END.getTime() - DAYS * 86_400_000);

/**
 * CALLS calls of `appId` (test mode), created evenly over the 30 days; a mix of outcomes: 60 %
 * answered and COMPLETED (durations 1–600 s), 15 % NO_ANSWER, 10 % BUSY, 5 % FAILED, 5 % CANCELED,
 * 5 % still IN_PROGRESS; 80 % PSTN, 15 % WebRTC, 5 % WhatsApp callees; 10 % inbound.
 */
const SEED = `
INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel, metadata, options,
                  created_at, updated_at, started_at, answered_at, ended_at, duration, end_reason, last_sequence, provider)
SELECT 'call_test_' || lpad(to_hex(g), 27, '0'), $1, 'test',
       CASE WHEN g % 10 = 0 THEN 'inbound' ELSE 'outbound' END,
       s.status, '+15551234567', '+15557654321', 'pstn',
       CASE WHEN g % 20 = 1 THEN 'whatsapp' WHEN g % 20 < 5 THEN 'webrtc' ELSE 'pstn' END,
       jsonb_build_object('customer', 'cus_' || (g % 1000)), '{}', t.created, t.created,
       CASE WHEN s.status <> 'failed' THEN t.created + interval '1 second' END,
       CASE WHEN s.answered THEN t.created + interval '6 seconds' END,
       CASE WHEN s.status <> 'in_progress' THEN t.created + interval '6 seconds' + make_interval(secs => s.duration) END,
       CASE WHEN s.status <> 'in_progress' THEN s.duration END,
       CASE s.status WHEN 'completed' THEN 'hangup' WHEN 'no_answer' THEN 'no_answer' WHEN 'busy' THEN 'busy'
                     WHEN 'failed' THEN 'failed' WHEN 'canceled' THEN 'canceled' END,
       1, 'simulator'
  FROM generate_series(1, $2::int) g
 CROSS JOIN LATERAL (SELECT $3::timestamptz + (g::float8 / $2::int) * ($4::timestamptz - $3::timestamptz) AS created) t
 CROSS JOIN LATERAL (
   SELECT CASE WHEN g % 20 < 12 THEN 'completed' WHEN g % 20 < 15 THEN 'no_answer' WHEN g % 20 < 17 THEN 'busy'
               WHEN g % 20 = 17 THEN 'failed' WHEN g % 20 = 18 THEN 'canceled' ELSE 'in_progress' END AS status,
          g % 20 < 12 OR g % 20 = 19 AS answered,
          CASE WHEN g % 20 < 12 THEN 1 + (g::bigint * 7919) % 600 ELSE 0 END AS duration
 ) s`;

interface Measured {
  name: string;
  groups: number | null;
  medianMs: number;
  p95Ms: number;
}

async function measure(
  name: string,
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown>,
  groups: (data: any) => number | null,
): Promise<Measured> {
  const times: number[] = [];
  let count: number | null = null;
  for (let round = -2; round < ROUNDS; round++) {
    const started = performance.now();
    const body = await postGraphQL(url, key, query, variables);
    const elapsed = performance.now() - started;
    if (body.errors) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
    count = groups(body.data);
    if (round >= 0) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return { name, groups: count, medianMs: Math.round(percentile(times, 50) * 10) / 10, p95Ms: Math.round(percentile(times, 95) * 10) / 10 };
}

/** Pages 1–5 of a listing, each page's request timed: the median and p95 over every page of every round. */
async function measurePages(name: string, url: string, key: string, orderBy: Record<string, string>): Promise<Measured> {
  const times: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const started = performance.now();
      const body: any = await postGraphQL(
        url,
        key,
        `query($after: String, $orderBy: CallOrder) { calls(first: 50, after: $after, orderBy: $orderBy) { nodes { id status duration endedAt } pageInfo { endCursor } } }`,
        { after, orderBy },
      );
      const elapsed = performance.now() - started;
      if (body.errors || body.data.calls.nodes.length !== 50) throw new Error(`${name}: ${JSON.stringify(body.errors ?? body.data)}`);
      after = body.data.calls.pageInfo.endCursor;
      if (round >= 0) times.push(elapsed);
    }
  }
  times.sort((a, b) => a - b);
  return { name, groups: null, medianMs: Math.round(percentile(times, 50) * 10) / 10, p95Ms: Math.round(percentile(times, 95) * 10) / 10 };
}

const STATS = `query($from: DateTime!, $to: DateTime!, $groupBy: [CallStatsGroup!], $filter: CallFilter) {
  callStats(from: $from, to: $to, groupBy: $groupBy, filter: $filter) {
    total { count answered answerRate averageDuration p95Duration }
    groups { key { status channel direction endReason period } count answerRate averageDuration p95Duration }
  }
}`;

const prepared = await prepareBenchDatabase({
  name: 'calls_bench_stats',
  dataDir: path.join(ROOT, '.data', 'bench'),
  port: PG_PORT,
  synchronousCommit: 'off',
  log,
});
let gateway: ChildProcess | null = null;
try {
  const database = await openDatabase(prepared.url, { poolSize: 1, migrate: true });
  const app = await createBenchApp(database, 'bench-stats').finally(() => database.close());
  const client = new pg.Client({ connectionString: prepared.url });
  await client.connect();
  log(`writing ${CALLS.toLocaleString('en')} calls over ${DAYS} days …`);
  const seedStarted = performance.now();
  await client.query(SEED, [app.id, CALLS, START, END]);
  await client.query('VACUUM (ANALYZE) call');
  const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;
  const [{ size }] = (await client.query<{ size: string }>(`SELECT pg_size_pretty(pg_total_relation_size('call')) AS size`)).rows as [{ size: string }];
  await client.end();
  log(`written and vacuumed in ${seedSeconds} s (table and indexes: ${size})`);

  const port = await freePort();
  gateway = (await serveGateway({ DATABASE_URL: prepared.url, PORT: String(port), RATE_LIMIT_PER_MINUTE: '0', SIMULATOR_TIME_SCALE: '100' })).child;
  const url = `http://127.0.0.1:${port}/graphql`;
  const key = app.testKey;
  const all = { from: START.toISOString(), to: END.toISOString() };
  const lastDay = { from: new Date(END.getTime() - 86_400_000).toISOString(), to: END.toISOString() };
  const lastWeek = { from: new Date(END.getTime() - 7 * 86_400_000).toISOString(), to: END.toISOString() };
  const groups = (data: any) => data.callStats.groups.length;
  const results: Measured[] = [];
  const run = async (name: string, variables: Record<string, unknown>) => {
    log(name);
    results.push(await measure(name, url, key, STATS, variables, groups));
  };
  await run('callStats, 30 days, total only', { ...all });
  await run('callStats, 30 days, by STATUS', { ...all, groupBy: ['STATUS'] });
  await run('callStats, 30 days, by DAY and STATUS', { ...all, groupBy: ['DAY', 'STATUS'] });
  await run('callStats, 30 days, by CHANNEL and END_REASON, filter direction OUTBOUND', {
    ...all,
    groupBy: ['CHANNEL', 'END_REASON'],
    filter: { direction: 'OUTBOUND' },
  });
  await run('callStats, 7 days, by HOUR', { ...lastWeek, groupBy: ['HOUR'] });
  await run('callStats, 1 day, by MINUTE', { ...lastDay, groupBy: ['MINUTE'] });
  await run('callStats, 30 days, by DAY, filter metadata {customer: cus_7}', { ...all, groupBy: ['DAY'], filter: { metadata: { customer: 'cus_7' } } });
  for (const field of ['CREATED_AT', 'STARTED_AT', 'ENDED_AT', 'DURATION']) {
    for (const direction of ['DESC', 'ASC']) {
      const name = `calls(first: 50) orderBy ${field} ${direction}, pages 1–5`;
      log(name);
      results.push(await measurePages(name, url, key, { field, direction }));
    }
  }
  const report = {
    at: new Date().toISOString(),
    calls: CALLS,
    days: DAYS,
    rounds: ROUNDS,
    seedSeconds,
    tableSize: size,
    source: prepared.source,
    machine: machineInfo(),
    git: gitState(['src']),
    results,
  };
  const written = await writeReport(report, { latest: 'stats-latest.json', stamped: `stats-${fileStamp()}.json` });
  console.log(
    `calls-gateway stats bench, ${report.at}, ${CALLS.toLocaleString('en')} calls of one application over ${DAYS} days, ${prepared.source}, ${ROUNDS} rounds`,
  );
  console.log(
    markdownTable(
      ['query (through the gateway, HTTP)', 'groups', 'median ms', 'p95 ms'],
      results.map((r) => [r.name, r.groups ?? '', r.medianMs, r.p95Ms]),
    ),
  );
  log(`report: ${written}`);
} finally {
  gateway?.kill('SIGTERM');
  if (gateway) await new Promise((resolve) => gateway!.once('exit', resolve));
  await prepared.server.stop();
}
