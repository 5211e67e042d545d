/**
 * Issue 2's benchmark: createCall mutations/s and `calls(first: 50, filter: {status: [COMPLETED]})`
 * req/s through the real gateway, against a bare Apollo Server 5 (graphql-js, and graphql-jit) and plain REST (node:http + pg),
 * in one run, against one PostgreSQL. See bench/README.md.
 *
 *   npm run bench                       # build, then this file (embedded PostgreSQL on :54339)
 *   DATABASE_URL=postgres://… npm run bench
 *
 * Environment (all optional): BENCH_CONNECTIONS (10), BENCH_DURATION (10 s measured per server and
 * operation), BENCH_ROUNDS (4: the duration is split in interleaved rounds), BENCH_WARMUP (3 s),
 * BENCH_POOL_SIZE (10), BENCH_SEED_CALLS (2000), BENCH_PG_PORT (54339), BENCH_SERVERS
 * (gateway,apollo,apollo-jit,mercurius,rest), BENCH_OPERATIONS (list,create), BENCH_CPU_PROF (comma-separated server
 * names to run under `node --cpu-prof`, profiles in bench/results/profiles/),
 * BENCH_SYNCHRONOUS_COMMIT (off), BENCH_SIMULATOR_TIME_SCALE (1000), BENCH_FIXED_SECONDS (5; 0: no fixed-rate run),
 * BENCH_FIXED_SHARE (0.5 of the slowest server's req/s), BENCH_ENFORCE_TARGET (1: exit 1 when a target is missed).
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { openDatabase } from '../src/db/database.js';
import { newCallId, newEventId } from '../src/domain/ids.js';
import { CREATE_CALL_DOCUMENT, CREATE_INPUT, LIST_CALLS_DOCUMENT, LIST_PAGES, LIST_SIZE, callCursor, type ChildMessage, type ServerOptions } from './shared.js';
import {
  benchLog,
  choicesEnv,
  createBenchApp,
  eventsPending,
  fileStamp,
  findPostmaster,
  flagEnv,
  FROM_NUMBER,
  gitState,
  intEnv,
  machineInfo,
  markdownTable,
  numberEnv,
  percentile,
  pgPortEnv,
  postgresCpuMicros,
  prepareBenchDatabase,
  PROFILES_DIR,
  ROOT,
  round,
  sleep,
  synchronousCommitEnv,
  writeReport,
  type PreparedDatabase,
} from './helpers.js';

// --- settings ------------------------------------------------------------------------------------

const SERVERS = ['gateway', 'apollo', 'apollo-jit', 'mercurius', 'rest'] as const;
const OPERATIONS = ['list', 'create'] as const;
type ServerName = (typeof SERVERS)[number];
type Operation = (typeof OPERATIONS)[number];

const settings = {
  connections: intEnv('BENCH_CONNECTIONS', 10, 1, 1000),
  durationSeconds: intEnv('BENCH_DURATION', 10, 1, 600),
  warmupSeconds: intEnv('BENCH_WARMUP', 3, 0, 600),
  rounds: intEnv('BENCH_ROUNDS', 4, 1, 20),
  poolSize: intEnv('BENCH_POOL_SIZE', 10, 1, 200),
  seedCalls: intEnv('BENCH_SEED_CALLS', 2000, LIST_SIZE * 2, 1_000_000),
  embeddedPort: pgPortEnv('BENCH_PG_PORT', 54339),
  servers: choicesEnv('BENCH_SERVERS', SERVERS),
  operations: choicesEnv('BENCH_OPERATIONS', OPERATIONS),
  cpuProf: choicesEnv('BENCH_CPU_PROF', SERVERS, []),
  synchronousCommit: synchronousCommitEnv('BENCH_SYNCHRONOUS_COMMIT'),
  simulatorTimeScale: process.env.BENCH_SIMULATOR_TIME_SCALE || '1000',
  enforceTarget: flagEnv('BENCH_ENFORCE_TARGET'),
  /** Applications (tenants) whose keys the gateway's createCalls rotate through, each with its own number. */
  tenants: intEnv('BENCH_TENANTS', 8, 1, 1000),
  /** Destinations createCall draws from (every server). */
  destinations: intEnv('BENCH_DESTINATIONS', 1000, 1, 10_000),
  /**
   * How the gateway child runs (bench/server-gateway.ts reads the same variables): as operators
   * run it, printed above the table.
   */
  gateway: {
    production: process.env.BENCH_PRODUCTION !== '0',
    rateLimitPerMinute: process.env.BENCH_RATE_LIMIT ?? '1000000',
    rateLimitStore: (process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379') ? 'Redis (leased)' : 'PostgreSQL (leased)',
    logLevel: process.env.LOG_LEVEL ?? 'info',
    /**
     * BENCH_TRACING=<ratio> (1 for every trace, 0.01 for 1%): the gateway traces, with
     * parentbased_traceidratio at that ratio, exporting OTLP protobuf to a sink in this process
     * (it reads and drops the bodies); unset: no tracing, as by default.
     */
    tracing: process.env.BENCH_TRACING ? Number(process.env.BENCH_TRACING) : null,
  },
  /** Seconds of the fixed-rate run per server and operation (0: none). */
  fixedSeconds: intEnv('BENCH_FIXED_SECONDS', 5, 0, 600),
  /** The fixed rate, as a share of the slowest server's measured throughput in this run. */
  fixedShare: numberEnv('BENCH_FIXED_SHARE', 0.5, 0.01, 10),
  /**
   * Seconds of the gateway's sustained createCall run (0: none): `sustainShare` of its own
   * throughput in this run, offered at a fixed rate over `sustainConnections` connections (enough
   * that the rate, not the connections, sets the pace), with a live subscriber per tenant.
   */
  sustainSeconds: intEnv('BENCH_SUSTAIN_SECONDS', 60, 0, 3600),
  sustainShare: numberEnv('BENCH_SUSTAIN_SHARE', 0.8, 0.01, 10),
  sustainConnections: intEnv('BENCH_SUSTAIN_CONNECTIONS', 100, 1, 1000),
};

/**
 * Issue 26's targets: the gateway's throughput over the REST floor's, measured in one run (issue
 * 12's were 0.8× and 0.9×, with the gateway not yet run as operators run it); and ahead of every
 * GraphQL peer run with it (both bare Apollo servers and Mercurius + jit).
 */
const TARGETS: Record<Operation, number> = { list: 0.9, create: 0.85 };
const BENCH_DATABASE = 'calls_bench';
const here = path.dirname(fileURLToPath(import.meta.url));

const log = benchLog('bench');

// --- database ------------------------------------------------------------------------------------

/** The server to use (DATABASE_URL or the embedded one), with a fresh bench database. */
function prepareDatabase(): Promise<PreparedDatabase> {
  return prepareBenchDatabase({
    name: BENCH_DATABASE,
    dataDir: path.join(ROOT, '.data', 'bench'),
    port: settings.embeddedPort,
    synchronousCommit: settings.synchronousCommit,
    log,
  });
}

/** The gateway's createCalls rotate through these keys, each creating from its own application's number. */
let tenants: { key: string; number: string }[] = [];
/** The cursor before each list page read (null: the first page); every server reads the same pages in turn. */
let pageCursors: (string | null)[] = [null];
/** List requests sent so far (which page the next one reads). */
let listed = 0;
const destination = (n: number) => `+1415555${String(n % settings.destinations).padStart(4, '0')}`;

interface Seeded {
  appId: string;
  testKey: string;
  completed: number;
}

/** The application, its number, and `seedCalls` calls of which 3 in 4 are COMPLETED. */
async function seed(url: string): Promise<Seeded> {
  const database = await openDatabase(url, { poolSize: 2, migrate: true });
  try {
    const app = await createBenchApp(database, 'bench');

    // Only ended calls: a test-mode simulator would resume unfinished ones and write during the bench.
    const terminal = ['failed', 'busy', 'no_answer', 'canceled'] as const;
    const columns = {
      id: [] as string[],
      eventId: [] as string[],
      status: [] as string[],
      toAddress: [] as string[],
      toChannel: [] as string[],
      metadata: [] as string[],
      createdAt: [] as string[],
    };
    const now = Date.now();
    const span = 30 * 24 * 3600 * 1000;
    for (let i = 0; i < settings.seedCalls; i++) {
      const webrtc = i % 10 === 9;
      columns.id.push(newCallId('test'));
      columns.eventId.push(newEventId());
      columns.status.push(i % 4 === 0 ? terminal[(i / 4) % terminal.length]! : 'completed');
      columns.toAddress.push(webrtc ? `agent_${i}` : `+1415555${String(i % 10_000).padStart(4, '0')}`);
      columns.toChannel.push(webrtc ? 'webrtc' : 'pstn');
      columns.metadata.push(JSON.stringify({ customer: `cus_${i}`, campaign: i % 2 ? 'spring' : 'autumn', attempt: (i % 3) + 1 }));
      columns.createdAt.push(new Date(now - span + Math.floor((span * i) / settings.seedCalls) + (i % 997)).toISOString());
    }
    const pool = database.sql.pool;
    await pool.query(
      `WITH seed AS (
         SELECT s.*,
                CASE s.status WHEN 'initiated' THEN NULL ELSE s.created_at + interval '2 s' END AS started,
                CASE s.status WHEN 'completed' THEN s.created_at + interval '9 s' END AS answered,
                CASE s.status WHEN 'initiated' THEN NULL
                              WHEN 'completed' THEN s.created_at + interval '9 s' + (s.n % 300) * interval '1 s'
                              ELSE s.created_at + interval '30 s' END AS ended
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                WITH ORDINALITY AS s(id, status, to_address, to_channel, metadata, created_at, n)
       ), calls AS (
         INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel, metadata,
                           livekit_room_name, room_name, started_at, answered_at, ended_at, duration, end_reason, created_at, updated_at, last_sequence)
         SELECT id, $7, 'test', 'outbound', status, $8, to_address, 'pstn', to_channel, metadata::jsonb,
                CASE to_channel WHEN 'webrtc' THEN id END, CASE to_channel WHEN 'pstn' THEN NULL ELSE id END, started, answered, ended,
                CASE WHEN ended IS NULL THEN NULL WHEN answered IS NULL THEN 0 ELSE extract(epoch FROM ended - answered)::int END,
                CASE status WHEN 'completed' THEN 'hangup' WHEN 'initiated' THEN NULL ELSE status END,
                created_at, coalesce(ended, created_at), 1
           FROM seed
         RETURNING id, created_at
       )
       INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at)
       SELECT e.event_id, calls.id, $7, 'test', 1, 'initiated', NULL, calls.created_at
         FROM calls JOIN unnest($1::text[], $9::text[]) AS e(call_id, event_id) ON e.call_id = calls.id`,
      [columns.id, columns.status, columns.toAddress, columns.toChannel, columns.metadata, columns.createdAt, app.id, FROM_NUMBER, columns.eventId],
    );
    await pool.query('VACUUM ANALYZE call');
    await pool.query('VACUUM ANALYZE call_event');
    const { rows } = await pool.query<{ count: string }>(`SELECT count(*) FROM call WHERE status = 'completed'`);
    // The cursors of pages 1 … LIST_PAGES of the COMPLETED calls, newest first (as every server orders them).
    const { rows: completed } = await pool.query<{ id: string; createdAt: Date }>(
      `SELECT id, created_at AS "createdAt" FROM call WHERE app_id = $1 AND status = 'completed' ORDER BY created_at DESC, id DESC`,
      [app.id],
    );
    if (completed.length <= LIST_PAGES * LIST_SIZE)
      throw new Error(`${completed.length} COMPLETED calls: too few for ${LIST_PAGES} pages of ${LIST_SIZE} (BENCH_SEED_CALLS)`);
    pageCursors = Array.from({ length: LIST_PAGES }, (_, page) => (page === 0 ? null : callCursor(completed[page * LIST_SIZE - 1]!)));
    tenants = [{ key: app.testKey, number: FROM_NUMBER }];
    for (let i = 1; i < settings.tenants; i++) {
      const number = `+1555300${String(i).padStart(4, '0')}`;
      const other = await createBenchApp(database, `bench tenant ${i}`, number);
      tenants.push({ key: other.testKey, number });
    }
    return { appId: app.id, testKey: app.testKey, completed: Number(rows[0]!.count) };
  } finally {
    await database.close();
  }
}

// --- server children -----------------------------------------------------------------------------

interface RunningServer {
  name: ServerName;
  port: number;
  child: ChildProcess;
  /** SIGSTOPped while another server is measured. */
  paused?: boolean;
}

function startServer(name: ServerName, options: ServerOptions): Promise<RunningServer> {
  const file = path.join(here, `server-${name}.js`);
  const execArgv = [
    ...(settings.cpuProf.includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES_DIR}`, `--cpu-prof-name=bench-${name}-${Date.now()}.cpuprofile`] : []),
    // The sustained run compares the heap after full collections (bench/shared.ts, 'memory').
    ...(name === 'gateway' && settings.sustainSeconds > 0 ? ['--expose-gc'] : []),
  ];
  const child = fork(file, [], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      // The test-mode simulator's first transition (RINGING, 1 s after creation at scale 1) comes
      // 1000× later, after the bench (about 7 minutes): transitions are background work, not the
      // request path (placing the call, i.e. scheduling it, still is). At 100, the calls of the
      // throughput rounds began ringing during the gateway's fixed-rate run (about 100 s later),
      // and it was measured while simulating tens of thousands of lifecycles (869 of 1,134 req/s,
      // p50 8.5 ms, on 2026-12-08).
      SIMULATOR_TIME_SCALE: settings.simulatorTimeScale,
      BENCH_SERVER: JSON.stringify(options),
    },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: not ready after 60 s`));
    }, 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited before it was ready (code ${code}, signal ${signal})`));
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({ name, port: message.port, child });
      } else if (message.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${name} failed to start:\n${message.message}`));
      }
    });
  });
}

async function stopServer(server: RunningServer): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  resume(server);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Children still alive when this process exits (a crash, Ctrl-C) are killed, paused or not. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function pause(server: RunningServer): void {
  if (!server.paused && server.child.kill('SIGSTOP')) server.paused = true;
}

function resume(server: RunningServer): void {
  if (server.paused && server.child.kill('SIGCONT')) server.paused = false;
}

let cpuRequestId = 0;

/** The child's CPU time so far (user + system), in microseconds, and the statements it has sent. */
function serverUsage(server: RunningServer): Promise<{ cpuMicros: number; statements: number }> {
  const id = ++cpuRequestId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${server.name}: no CPU usage reply`)), 10_000);
    const onMessage = (message: ChildMessage) => {
      if (message.type !== 'cpu' || message.id !== id) return;
      clearTimeout(timer);
      server.child.off('message', onMessage);
      resolve({ cpuMicros: message.userMicros + message.systemMicros, statements: message.statements });
    };
    server.child.on('message', onMessage);
    server.child.send({ type: 'cpu', id });
  });
}

let memoryRequestId = 0;

/** The child's heap (after a full collection when it runs with --expose-gc) and resident set, in bytes. */
function serverMemory(server: RunningServer): Promise<{ heapUsed: number; rss: number; collected: boolean }> {
  const id = ++memoryRequestId;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${server.name}: no memory reply`)), 30_000);
    const onMessage = (message: ChildMessage) => {
      if (message.type !== 'memory' || message.id !== id) return;
      clearTimeout(timer);
      server.child.off('message', onMessage);
      resolve({ heapUsed: message.heapUsed, rss: message.rss, collected: message.collected });
    };
    server.child.on('message', onMessage);
    server.child.send({ type: 'memory', id });
  });
}

/** The local PostgreSQL's postmaster (null: PostgreSQL is on another machine, no DB CPU figures). */
let postmasterPid: number | null = null;

// --- requests ------------------------------------------------------------------------------------

interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** A cheap check of every response body under load (a miss counts as a mismatch). */
  verify: (body: string) => boolean;
  /** The full check of one response before the load. */
  check: (status: number, json: unknown) => string | null;
  /** Under load, each request's own body (and headers): varied inputs. */
  next?: () => { body?: string; path?: string; headers?: Record<string, string> };
}

const CALL_ID = /^call_test_[0-9A-Za-z]{27}$/;
const GRAPHQL_FIELDS = [
  'id',
  'appId',
  'direction',
  'status',
  'fromAddress',
  'toAddress',
  'fromChannel',
  'toChannel',
  'duration',
  'endReason',
  'metadata',
  'livekitRoomName',
  'startedAt',
  'answeredAt',
  'endedAt',
  'createdAt',
];

function count(body: string, needle: string): number {
  let n = 0;
  for (let at = body.indexOf(needle); at !== -1; at = body.indexOf(needle, at + needle.length)) n++;
  return n;
}

function checkCall(call: unknown, status: string, what: string): string | null {
  if (!call || typeof call !== 'object') return `${what}: no call`;
  const record = call as Record<string, unknown>;
  const missing = GRAPHQL_FIELDS.filter((field) => !(field in record));
  if (missing.length) return `${what}: missing ${missing.join(', ')}`;
  if (!CALL_ID.test(String(record.id))) return `${what}: bad id ${String(record.id)}`;
  if (record.status !== status) return `${what}: status ${String(record.status)}, expected ${status}`;
  return null;
}

function checkGraphQL(json: unknown): { data: Record<string, unknown> } | string {
  const body = json as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors?.length) return `GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`;
  if (!body.data) return 'no data';
  return { data: body.data };
}

/** Requests sent with varied inputs so far (the index into tenants and destinations). */
let sent = 0;

function requestFor(server: ServerName, operation: Operation, testKey: string): RequestSpec {
  const json = { 'content-type': 'application/json' };
  if (server === 'rest') {
    if (operation === 'list') {
      return {
        method: 'GET',
        path: `/calls?status=completed&limit=${LIST_SIZE}`,
        headers: {},
        next: () => {
          const cursor = pageCursors[listed++ % pageCursors.length];
          return { path: `/calls?status=completed&limit=${LIST_SIZE}${cursor ? `&after=${cursor}` : ''}` };
        },
        verify: (body) => body.startsWith('{"calls":[{"id":"call_test_') && count(body, '"status":"completed"') === LIST_SIZE,
        check: (status, body) => {
          if (status !== 200) return `HTTP ${status}`;
          const calls = (body as { calls?: unknown[] }).calls ?? [];
          if (calls.length !== LIST_SIZE) return `${calls.length} calls, expected ${LIST_SIZE}`;
          return calls.map((call, i) => checkCall(call, 'completed', `calls[${i}]`)).find(Boolean) ?? null;
        },
      };
    }
    return {
      method: 'POST',
      path: '/calls',
      headers: json,
      body: JSON.stringify(CREATE_INPUT),
      verify: (body) => body.startsWith('{"call":{"id":"call_test_'),
      check: (status, body) => (status !== 201 ? `HTTP ${status}` : checkCall((body as { call?: unknown }).call, 'initiated', 'call')),
      next: () => ({ body: JSON.stringify({ ...CREATE_INPUT, to: destination(sent++) }) }),
    };
  }
  const headers: Record<string, string> = server === 'gateway' ? { ...json, authorization: `Bearer ${testKey}` } : json;
  if (operation === 'list') {
    return {
      method: 'POST',
      path: '/graphql',
      headers,
      body: JSON.stringify({ query: LIST_CALLS_DOCUMENT, variables: { first: LIST_SIZE } }),
      next: () => ({
        body: JSON.stringify({ query: LIST_CALLS_DOCUMENT, variables: { first: LIST_SIZE, after: pageCursors[listed++ % pageCursors.length] } }),
      }),
      verify: (body) => body.startsWith('{"data":{"calls":{"nodes":[{"id":"call_test_') && count(body, '"status":"COMPLETED"') === LIST_SIZE,
      check: (status, body) => {
        if (status !== 200) return `HTTP ${status}: ${JSON.stringify(body).slice(0, 500)}`;
        const result = checkGraphQL(body);
        if (typeof result === 'string') return result;
        const calls = result.data.calls as { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
        if (calls.nodes.length !== LIST_SIZE) return `${calls.nodes.length} calls, expected ${LIST_SIZE}`;
        if (!calls.pageInfo.hasNextPage || !calls.pageInfo.endCursor) return `bad pageInfo ${JSON.stringify(calls.pageInfo)}`;
        return calls.nodes.map((call, i) => checkCall(call, 'COMPLETED', `nodes[${i}]`)).find(Boolean) ?? null;
      },
    };
  }
  return {
    method: 'POST',
    path: '/graphql',
    headers,
    body: JSON.stringify({ query: CREATE_CALL_DOCUMENT, variables: { input: CREATE_INPUT } }),
    // The gateway's requests rotate through the tenants' keys (its auth cache and per-key rate
    // limit see several keys); every server gets many destinations.
    next: () => {
      const n = sent++;
      const tenant = server === 'gateway' ? tenants[n % tenants.length]! : { key: testKey, number: FROM_NUMBER };
      return {
        body: JSON.stringify({ query: CREATE_CALL_DOCUMENT, variables: { input: { ...CREATE_INPUT, from: tenant.number, to: destination(n) } } }),
        ...(server === 'gateway' ? { headers: { ...json, authorization: `Bearer ${tenant.key}` } } : {}),
      };
    },
    verify: (body) => body.startsWith('{"data":{"createCall":{"call":{"id":"call_test_') && body.includes('"userErrors":[],"replayed":false}}}'),
    check: (status, body) => {
      if (status !== 200) return `HTTP ${status}: ${JSON.stringify(body).slice(0, 500)}`;
      const result = checkGraphQL(body);
      if (typeof result === 'string') return result;
      const payload = result.data.createCall as { call: unknown; userErrors: unknown[]; replayed: boolean };
      if (payload.userErrors.length) return `userErrors: ${JSON.stringify(payload.userErrors)}`;
      if (payload.replayed !== false) return 'replayed is not false';
      return checkCall(payload.call, 'INITIATED', 'call');
    },
  };
}

/** One request of each kind, fully checked, before any load; plus the gateway's 401 without a key. */
async function preflight(server: RunningServer, testKey: string): Promise<void> {
  for (const operation of OPERATIONS) {
    const spec = requestFor(server.name, operation, testKey);
    const response = await fetch(`http://127.0.0.1:${server.port}${spec.path}`, { method: spec.method, headers: spec.headers, body: spec.body });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${server.name} ${operation}: not JSON (HTTP ${response.status}): ${text.slice(0, 300)}`);
    }
    const problem = spec.check(response.status, json);
    if (problem) throw new Error(`${server.name} ${operation}: ${problem}`);
    if (!spec.verify(text)) throw new Error(`${server.name} ${operation}: the under-load body check refuses a correct response: ${text.slice(0, 300)}`);
  }
  if (server.name === 'gateway') {
    const spec = requestFor('gateway', 'list', testKey);
    const { authorization: _authorization, ...anonymous } = spec.headers;
    const response = await fetch(`http://127.0.0.1:${server.port}${spec.path}`, { method: 'POST', headers: anonymous, body: spec.body });
    await response.text();
    if (response.status !== 401) throw new Error(`gateway without a key: HTTP ${response.status}, expected 401 (is auth really on the path?)`);
  }
}

// --- load ----------------------------------------------------------------------------------------

interface Measurement {
  server: ServerName;
  operation: Operation;
  /** responses / elapsed seconds, over every round */
  rps: number;
  /** req/s of each round */
  roundRps: number[];
  responses: number;
  /** Of every 2xx response of every round (computed here, not by autocannon's histogram). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses whose body failed the check (GraphQL errors, userErrors, wrong page…). */
  badBodies: number;
  /**
   * CPU time of the server process per response (user + system, µs): what a request costs in
   * Node, much less sensitive than req/s to other load on the machine.
   */
  serverCpuMicrosPerRequest: number;
  /** Share of one core the server process used while measured. */
  serverCpuCores: number;
  /** CPU time of PostgreSQL's processes per response (µs; 10 ms clock-tick resolution per round), null if not measurable. */
  dbCpuMicrosPerRequest: number | null;
  /** Statements the server process sent per response, background work (the event log's) included. */
  statementsPerRequest: number;
  durationSeconds: number;
  warmupResponses: number;
  /** 2xx responses, warm-up included (for the inserted-rows check). */
  total2xx: number;
}

interface Round {
  result: autocannon.Result;
  latencies: number[];
  /** CPU time the server process used during the round. */
  cpuMicros: number;
  /** CPU time of PostgreSQL's processes during the round (null: not measurable). */
  dbCpuMicros: number | null;
  /** Statements the server process sent during the round. */
  statements: number;
}

async function load(server: RunningServer, spec: RequestSpec, seconds: number, overallRate?: number, connections = settings.connections): Promise<Round> {
  const latencies: number[] = [];
  const before = await serverUsage(server);
  const dbBefore = postgresCpuMicros(postmasterPid);
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}${spec.path}`,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    verifyBody: (body) => typeof body === 'string' && spec.verify(body),
    ...(overallRate ? { overallRate } : {}),
    ...(spec.next
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => {
                const next = spec.next!();
                return {
                  ...request,
                  ...(next.body !== undefined ? { body: next.body } : {}),
                  ...(next.path ? { path: next.path } : {}),
                  ...(next.headers ? { headers: next.headers } : {}),
                };
              },
            },
          ],
        }
      : {}),
  });
  (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  const dbAfter = postgresCpuMicros(postmasterPid);
  const after = await serverUsage(server);
  return {
    result,
    latencies,
    cpuMicros: after.cpuMicros - before.cpuMicros,
    statements: after.statements - before.statements,
    dbCpuMicros: dbBefore === null || dbAfter === null ? null : dbAfter - dbBefore,
  };
}

/** A latency percentile, ms to 0.01. */
const latencyAt = (sorted: number[], p: number) => round(percentile(sorted, p), 2);

function summarise(server: ServerName, operation: Operation, rounds: Round[], warmup: Round | undefined): Measurement {
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const sum = <K extends 'non2xx' | 'errors' | 'timeouts' | 'mismatches' | 'duration'>(key: K, list = rounds) =>
    list.reduce((total, round) => total + round.result[key], 0);
  const responses = rounds.reduce((total, round) => total + round.result.requests.total, 0);
  const duration = sum('duration');
  const withWarmup = warmup ? [...rounds, warmup] : rounds;
  return {
    server,
    operation,
    rps: responses / duration,
    roundRps: rounds.map((round) => Math.round(round.result.requests.total / round.result.duration)),
    responses,
    latencyMs: {
      mean: latencies.length ? Math.round((latencies.reduce((a, b) => a + b, 0) / latencies.length) * 100) / 100 : 0,
      p50: latencyAt(latencies, 50),
      p90: latencyAt(latencies, 90),
      p99: latencyAt(latencies, 99),
      max: latencyAt(latencies, 100),
    },
    // Failures during the warm-up count too.
    non2xx: sum('non2xx', withWarmup),
    errors: sum('errors', withWarmup),
    timeouts: sum('timeouts', withWarmup),
    badBodies: sum('mismatches', withWarmup),
    serverCpuMicrosPerRequest: Math.round(rounds.reduce((total, round) => total + round.cpuMicros, 0) / Math.max(responses, 1)),
    dbCpuMicrosPerRequest: rounds.some((round) => round.dbCpuMicros === null)
      ? null
      : Math.round(rounds.reduce((total, round) => total + round.dbCpuMicros!, 0) / Math.max(responses, 1)),
    statementsPerRequest: Math.round((rounds.reduce((total, round) => total + round.statements, 0) / Math.max(responses, 1)) * 100) / 100,
    serverCpuCores: Math.round((rounds.reduce((total, round) => total + round.cpuMicros, 0) / 1e6 / duration) * 100) / 100,
    durationSeconds: Math.round(duration * 100) / 100,
    warmupResponses: warmup?.result.requests.total ?? 0,
    total2xx: withWarmup.reduce((total, round) => total + round.result['2xx'], 0),
  };
}

/**
 * Makes `server` the only server process running: the others are SIGSTOPped, so that nothing they
 * do in the background (the gateway's event-log poll, sequencer and tailer, which also process
 * the events the baselines write, and its simulator) runs during another server's measurement.
 * Then lets the background work the server owes run out before it is measured: the gateway first
 * numbers and reads the events written meanwhile (by the baselines), which is not its request path.
 */
async function activate(servers: RunningServer[], server: RunningServer, probe: pg.Client): Promise<void> {
  // A gateway is paused only once it has numbered the events written so far: paused inside its
  // sequencer's transaction, it would hold the sequencer's lock.
  const runningGateway = servers.find((other) => other !== server && isGateway(other) && !other.paused);
  if (runningGateway) await eventsNumbered(probe);
  for (const other of servers) if (other !== server) pause(other);
  resume(server);
  if (isGateway(server)) await eventsNumbered(probe);
  // The same pause for every server; for the gateway, time for its tailer to read what was numbered.
  await sleep(1_000);
}

function isGateway(server: RunningServer): boolean {
  return server.name === 'gateway';
}

/** Waits until a running gateway has numbered every event (position is NULL until then). */
async function eventsNumbered(probe: pg.Client): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!(await eventsPending(probe))) return;
    if (Date.now() > deadline) throw new Error('the gateway did not number the pending events within 60 s');
    await sleep(200);
  }
}

/**
 * One operation on every server: `rounds` interleaved rounds of duration/rounds seconds each, the
 * server order reversed every other round, so that background load on this shared machine and any
 * drift (the table growing under createCall) fall on every server alike. Each server is warmed up
 * right before its first round, and runs alone (see activate).
 */
async function measureOperation(servers: RunningServer[], operation: Operation, testKey: string, probe: pg.Client): Promise<Measurement[]> {
  const seconds = settings.durationSeconds / settings.rounds;
  const rounds = new Map<ServerName, Round[]>(servers.map((server) => [server.name, []]));
  const warmups = new Map<ServerName, Round>();
  for (let round = 0; round < settings.rounds; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const spec = requestFor(server.name, operation, testKey);
      await activate(servers, server, probe);
      if (round === 0 && settings.warmupSeconds > 0) warmups.set(server.name, await load(server, spec, settings.warmupSeconds));
      const result = await load(server, spec, seconds);
      rounds.get(server.name)!.push(result);
      const r = result.result;
      log(
        `  round ${round + 1}/${settings.rounds} ${LABEL[server.name]}: ${(r.requests.total / r.duration).toFixed(0)} req/s, ${Math.round(result.cpuMicros / Math.max(r.requests.total, 1))} µs CPU/req` +
          (result.dbCpuMicros === null ? '' : `, DB ${Math.round(result.dbCpuMicros / Math.max(r.requests.total, 1))} µs/req`) +
          `, ${(result.statements / Math.max(r.requests.total, 1)).toFixed(2)} statements/req` +
          (r.non2xx || r.errors || r.mismatches ? ` (non-2xx ${r.non2xx}, errors ${r.errors}, bad bodies ${r.mismatches})` : ''),
      );
    }
  }
  return servers.map((server) => summarise(server.name, operation, rounds.get(server.name)!, warmups.get(server.name)));
}

interface FixedRate {
  operation: Operation;
  server: ServerName;
  /** Requests per second offered (autocannon's overallRate). */
  rate: number;
  achievedRps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  badBodies: number;
  total2xx: number;
}

/**
 * Latency at a load every server sustains: `fixedShare` of the slowest server's throughput in
 * this run, offered at a fixed rate to each server alone, so p50/p99 compare like with like
 * (at saturation, latency mostly measures the queue).
 */
async function measureFixedRate(
  servers: RunningServer[],
  operation: Operation,
  measured: Measurement[],
  testKey: string,
  probe: pg.Client,
): Promise<FixedRate[]> {
  const slowest = Math.min(...measured.filter((m) => m.operation === operation).map((m) => m.rps));
  const rate = Math.max(1, Math.floor(slowest * settings.fixedShare));
  log(`${OPERATION_LABEL[operation]} at a fixed ${rate} req/s (${settings.fixedShare} × the slowest server), ${settings.fixedSeconds} s per server`);
  const out: FixedRate[] = [];
  for (const server of servers) {
    await activate(servers, server, probe);
    const round = await load(server, requestFor(server.name, operation, testKey), settings.fixedSeconds, rate);
    const latencies = round.latencies.sort((a, b) => a - b);
    const result: FixedRate = {
      operation,
      server: server.name,
      rate,
      achievedRps: Math.round(round.result.requests.total / round.result.duration),
      latencyMs: { p50: latencyAt(latencies, 50), p90: latencyAt(latencies, 90), p99: latencyAt(latencies, 99), max: latencyAt(latencies, 100) },
      non2xx: round.result.non2xx,
      errors: round.result.errors,
      badBodies: round.result.mismatches,
      total2xx: round.result['2xx'],
    };
    log(`  ${LABEL[server.name]}: ${result.achievedRps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`);
    out.push(result);
  }
  return out;
}

function fixedRateTable(list: FixedRate[]): string {
  return markdownTable(
    ['operation', 'server', 'offered req/s', 'achieved req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    list.map((f) => [OPERATION_LABEL[f.operation], LABEL[f.server], f.rate, f.achievedRps, f.latencyMs.p50, f.latencyMs.p90, f.latencyMs.p99, f.latencyMs.max]),
  );
}

interface Sustained {
  offeredRps: number;
  achievedRps: number;
  connections: number;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Commit → subscriber: a subscriber per tenant receives every INITIATED event (occurredAt is the INSERT's transaction time). */
  eventLagMs: { p50: number; p99: number; max: number };
  /** Events the subscribers received during the run (the lifecycle events of earlier calls among them). */
  eventsReceived: number;
  /** INITIATED events received: one per call created in the run, or an event was lost. */
  initiatedReceived: number;
  callsCreated: number;
  /** Heap after a full collection and resident set, at the start, the middle and the end of the run (MB). */
  memory: { atSeconds: number; heapMB: number; rssMB: number }[];
  non2xx: number;
  errors: number;
  badBodies: number;
  total2xx: number;
}

/**
 * Issue 26: createCall at `sustainShare` of the gateway's own measured maximum for
 * `sustainSeconds`, offered at a fixed rate over enough connections that the rate sets the pace
 * (with autocannon's fixed rate, 10 connections cap a server at 10 / latency), a live `callStatus`
 * subscriber per tenant measuring commit → delivery, and the heap sampled after full collections.
 */
async function measureSustained(
  servers: RunningServer[],
  gateway: RunningServer,
  measured: Measurement[],
  testKey: string,
  probe: pg.Client,
): Promise<Sustained> {
  const max = measured.find((m) => m.server === 'gateway' && m.operation === 'create')!.rps;
  const rate = Math.max(1, Math.floor(max * settings.sustainShare));
  log(
    `createCall sustained: ${rate} req/s (${settings.sustainShare} × the gateway's ${max.toFixed(0)}) for ${settings.sustainSeconds} s over ${settings.sustainConnections} connections`,
  );
  await activate(servers, gateway, probe);
  const lags: number[] = [];
  let initiated = 0;
  let receiving = false;
  const clients = tenants.map(({ key }) =>
    createClient({
      url: `ws://127.0.0.1:${gateway.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      lazy: false,
      retryAttempts: 0,
    }),
  );
  const subscribed = clients.map(
    (client) =>
      new Promise<void>((resolve, reject) => {
        const off = client.on('connected', () => {
          off();
          resolve();
        });
        client.subscribe<{ callStatus: { status: string; occurredAt: string } }>(
          { query: 'subscription { callStatus { id status occurredAt } }' },
          {
            next: (result) => {
              if (!receiving || !result.data) return;
              lags.push(Date.now() - Date.parse(result.data.callStatus.occurredAt));
              if (result.data.callStatus.status === 'INITIATED') initiated++;
            },
            error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
            complete: () => {},
          },
        );
      }),
  );
  try {
    await Promise.all(subscribed);
    // The subscriptions are registered once the server has read them; the first event proves nothing, a pause does.
    await sleep(1_000);
    const memory: Sustained['memory'] = [];
    const sample = async (atSeconds: number) => {
      const { heapUsed, rss } = await serverMemory(gateway);
      memory.push({ atSeconds, heapMB: Math.round((heapUsed / 1e6) * 10) / 10, rssMB: Math.round((rss / 1e6) * 10) / 10 });
    };
    await sample(0);
    const before = await probe.query<{ n: string }>('SELECT count(*)::text AS n FROM call');
    receiving = true;
    const half = setTimeout(() => void sample(settings.sustainSeconds / 2), (settings.sustainSeconds / 2) * 1_000);
    const round = await load(gateway, requestFor('gateway', 'create', testKey), settings.sustainSeconds, rate, settings.sustainConnections);
    clearTimeout(half);
    // Events committed at the end of the run still arrive: wait for them, bounded.
    const after = await probe.query<{ n: string }>('SELECT count(*)::text AS n FROM call');
    const created = Number(after.rows[0]!.n) - Number(before.rows[0]!.n);
    for (let waited = 0; initiated < created && waited < 10_000; waited += 100) await sleep(100);
    receiving = false;
    await sample(settings.sustainSeconds);
    const latencies = round.latencies.sort((a, b) => a - b);
    const sorted = [...lags].sort((a, b) => a - b);
    return {
      offeredRps: rate,
      achievedRps: Math.round(round.result.requests.total / round.result.duration),
      connections: settings.sustainConnections,
      seconds: settings.sustainSeconds,
      latencyMs: { p50: latencyAt(latencies, 50), p90: latencyAt(latencies, 90), p99: latencyAt(latencies, 99), max: latencyAt(latencies, 100) },
      eventLagMs: { p50: latencyAt(sorted, 50), p99: latencyAt(sorted, 99), max: latencyAt(sorted, 100) },
      eventsReceived: lags.length,
      initiatedReceived: initiated,
      callsCreated: created,
      memory: memory.sort((a, b) => a.atSeconds - b.atSeconds),
      non2xx: round.result.non2xx,
      errors: round.result.errors,
      badBodies: round.result.mismatches,
      total2xx: round.result['2xx'],
    };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

function sustainedTable(s: Sustained): string {
  return markdownTable(
    [
      'offered req/s',
      'achieved req/s',
      'connections',
      'seconds',
      'p50 ms',
      'p99 ms',
      'max ms',
      'event lag p50 ms',
      'event lag p99 ms',
      'events / of them INITIATED / calls',
      'heap MB (0 / ½ / end)',
      'RSS MB (0 / ½ / end)',
    ],
    [
      [
        s.offeredRps,
        s.achievedRps,
        s.connections,
        s.seconds,
        s.latencyMs.p50,
        s.latencyMs.p99,
        s.latencyMs.max,
        s.eventLagMs.p50,
        s.eventLagMs.p99,
        `${s.eventsReceived} / ${s.initiatedReceived} / ${s.callsCreated}`,
        s.memory.map((m) => m.heapMB).join(' / '),
        s.memory.map((m) => m.rssMB).join(' / '),
      ],
    ],
  );
}

// --- SQL drift ---------------------------------------------------------------------------------

/**
 * The baselines import the gateway's INSERT and column list (bench/shared.ts), but the list
 * SELECT is built by the gateway at run time and copied here: if its shape changes, say so.
 */
async function sqlDrift(): Promise<string[]> {
  const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
  let source: string;
  try {
    source = normalise(await readFile(path.join(ROOT, 'dist', 'src', 'db', 'pg-call-store.js'), 'utf8'));
  } catch {
    return ["dist/src/db/pg-call-store.js not found: cannot check that the baselines send the gateway's SQL"];
  }
  const expected: Array<[string, string]> = [['the list SELECT (ORDER BY <order column>, id … LIMIT)', 'ORDER BY ${column.name} ${order}, id ${order} LIMIT']];
  return expected
    .filter(([, text]) => !source.includes(text))
    .map(([what]) => `${what} of bench/shared.ts is no longer in src/db/pg-call-store.ts: the baselines may not do the gateway's SQL work any more`);
}

// --- report --------------------------------------------------------------------------------------

const LABEL: Record<ServerName, string> = {
  gateway: 'gateway (startGateway)',
  apollo: 'bare Apollo Server 5',
  'apollo-jit': 'bare Apollo 5 + graphql-jit',
  mercurius: 'Mercurius 16 + jit (fastify 5)',
  rest: 'REST node:http + pg',
};
const OPERATION_LABEL: Record<Operation, string> = { list: `calls(first: 50, COMPLETED, pages 1–${LIST_PAGES})`, create: 'createCall' };

function table(measurements: Measurement[]): string {
  return markdownTable(
    [
      'operation',
      'server',
      'req/s',
      'per round',
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
      'DB CPU µs/req',
      'SQL statements/req',
      'non-2xx',
      'errors',
      'bad bodies',
      'responses',
    ],
    measurements.map((m) => [
      OPERATION_LABEL[m.operation],
      LABEL[m.server],
      m.rps.toFixed(0),
      m.roundRps.join(' / '),
      m.latencyMs.p50,
      m.latencyMs.p99,
      m.serverCpuMicrosPerRequest,
      m.dbCpuMicrosPerRequest ?? 'n/a',
      m.statementsPerRequest,
      m.non2xx,
      m.errors,
      m.badBodies,
      m.responses,
    ]),
  );
}

interface Ratio {
  operation: Operation;
  gatewayOverRest: number | null;
  gatewayOverApollo: number | null;
  gatewayOverApolloJit: number | null;
  apolloOverRest: number | null;
  apolloJitOverRest: number | null;
  /** The outside peer a performance-minded team would pick instead (issue 26: the gateway is to be ahead of it). */
  gatewayOverMercurius: number | null;
  mercuriusOverRest: number | null;
  /** gateway ≥ target × REST, and ahead of both bare Apollo servers and Mercurius (null: a server was not run). */
  meetsTarget: boolean | null;
}

function ratios(measurements: Measurement[]): Ratio[] {
  return settings.operations.map((operation) => {
    const rps = (server: ServerName) => measurements.find((m) => m.server === server && m.operation === operation)?.rps;
    const over = (a: ServerName, b: ServerName) => {
      const x = rps(a);
      const y = rps(b);
      return x !== undefined && y !== undefined && y > 0 ? x / y : null;
    };
    const gatewayOverRest = over('gateway', 'rest');
    const gatewayOverApollo = over('gateway', 'apollo');
    const gatewayOverApolloJit = over('gateway', 'apollo-jit');
    const gatewayOverMercurius = over('gateway', 'mercurius');
    const parts = [
      gatewayOverRest === null ? null : gatewayOverRest >= TARGETS[operation],
      gatewayOverApollo === null ? null : gatewayOverApollo >= 1,
      gatewayOverApolloJit === null ? null : gatewayOverApolloJit >= 1,
      gatewayOverMercurius === null ? null : gatewayOverMercurius >= 1,
    ];
    return {
      operation,
      gatewayOverRest,
      gatewayOverApollo,
      gatewayOverApolloJit,
      apolloOverRest: over('apollo', 'rest'),
      apolloJitOverRest: over('apollo-jit', 'rest'),
      gatewayOverMercurius,
      mercuriusOverRest: over('mercurius', 'rest'),
      meetsTarget: parts.includes(null) ? null : parts.every(Boolean),
    };
  });
}

function ratioTable(list: Ratio[]): string {
  const fmt = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(2)}×`);
  return markdownTable(
    [
      'operation',
      'gateway / REST',
      'target',
      'gateway / bare Apollo',
      'gateway / Apollo + jit',
      'bare Apollo / REST',
      'Apollo + jit / REST',
      'met',
      'gateway / Mercurius',
      'Mercurius / REST',
    ],
    list.map((r) => [
      OPERATION_LABEL[r.operation],
      fmt(r.gatewayOverRest),
      `≥ ${TARGETS[r.operation]}× REST, ≥ 1× Apollo, Apollo + jit and Mercurius`,
      fmt(r.gatewayOverApollo),
      fmt(r.gatewayOverApolloJit),
      fmt(r.apolloOverRest),
      fmt(r.apolloJitOverRest),
      r.meetsTarget === null ? 'n/a' : r.meetsTarget ? 'met' : 'MISSED',
      fmt(r.gatewayOverMercurius),
      fmt(r.mercuriusOverRest),
    ]),
  );
}

/** The commit measured, and whether the tree had changes (the result then describes no commit exactly). */
function sourceState(): { commit: string; dirty: boolean } | null {
  const { commit, dirty } = gitState(['src', 'bench', 'package.json']);
  return commit === null ? null : { commit, dirty: dirty.length > 0 };
}

// --- main ----------------------------------------------------------------------------------------

/**
 * An OTLP/HTTP endpoint for BENCH_TRACING: answers every export 200 and drops it; the gateway
 * child (forked with this process's environment) is pointed at it.
 */
async function otlpSink(ratio: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
  process.env.OTEL_TRACES_SAMPLER_ARG = String(ratio);
  return server;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const failures: string[] = [];
  const { server: pgServer, url, source } = await prepareDatabase();
  const running: RunningServer[] = [];
  const sink = settings.gateway.tracing === null ? null : await otlpSink(settings.gateway.tracing);
  try {
    log(`database ${BENCH_DATABASE} on ${source}; seeding ${settings.seedCalls} calls`);
    const seeded = await seed(url);
    log(`app ${seeded.appId}, ${seeded.completed} COMPLETED calls`);

    const probe = new pg.Client({ connectionString: url });
    await probe.connect();
    const counts = async () => {
      const { rows } = await probe.query<{ calls: string; events: string; version: string }>(
        `SELECT (SELECT count(*) FROM call) AS calls, (SELECT count(*) FROM call_event) AS events, current_setting('server_version') AS version`,
      );
      return { calls: Number(rows[0]!.calls), events: Number(rows[0]!.events), version: rows[0]!.version };
    };
    const before = await counts();
    postmasterPid = await findPostmaster(probe);
    if (postmasterPid === null) log('PostgreSQL is not a process of this machine: no DB CPU figures');

    const options: ServerOptions = { databaseUrl: url, poolSize: settings.poolSize, appId: seeded.appId, testKey: seeded.testKey };
    for (const name of settings.servers) {
      const server = await startServer(name, options);
      running.push(server);
      await preflight(server, seeded.testKey);
      log(`${name} ready on port ${server.port}; preflight passed`);
    }

    const measurements: Measurement[] = [];
    const fixedRate: FixedRate[] = [];
    // Every list first (on the seeded table), then every create (the table grows: a list after
    // the creates would scan past their INITIATED rows). Each operation's fixed-rate run follows
    // its throughput rounds, the gateway first: its simulated calls start their lifecycle
    // (SIMULATOR_TIME_SCALE × 1 s) about 1,000 s after their creation, after the bench.
    for (const operation of settings.operations) {
      log(
        `${OPERATION_LABEL[operation]}: ${settings.warmupSeconds} s warm-up, then ${settings.rounds} × ${settings.durationSeconds / settings.rounds} s per server, ${settings.connections} connections`,
      );
      for (const m of await measureOperation(running, operation, seeded.testKey, probe)) {
        measurements.push(m);
        log(
          `  ${LABEL[m.server]}: ${m.rps.toFixed(0)} req/s, p50 ${m.latencyMs.p50} ms, p99 ${m.latencyMs.p99} ms, non-2xx ${m.non2xx}, errors ${m.errors}, bad bodies ${m.badBodies}`,
        );
        if (m.non2xx) failures.push(`${m.server} ${m.operation}: ${m.non2xx} non-2xx responses`);
        if (m.errors) failures.push(`${m.server} ${m.operation}: ${m.errors} connection errors/timeouts`);
        if (m.badBodies) failures.push(`${m.server} ${m.operation}: ${m.badBodies} responses with GraphQL errors, userErrors or a wrong body`);
        if (m.responses === 0) failures.push(`${m.server} ${m.operation}: no response at all`);
      }
      if (settings.fixedSeconds > 0) {
        const gatewayFirst = [...running].sort((a, b) => Number(isGateway(b)) - Number(isGateway(a)));
        for (const f of await measureFixedRate(gatewayFirst, operation, measurements, seeded.testKey, probe)) {
          fixedRate.push(f);
          if (f.non2xx || f.errors || f.badBodies)
            failures.push(`${f.server} ${f.operation} at a fixed rate: non-2xx ${f.non2xx}, errors ${f.errors}, bad bodies ${f.badBodies}`);
        }
      }
    }

    let sustained: Sustained | null = null;
    const gatewayServer = running.find(isGateway);
    if (settings.sustainSeconds > 0 && gatewayServer && measurements.some((m) => m.server === 'gateway' && m.operation === 'create')) {
      sustained = await measureSustained(running, gatewayServer, measurements, seeded.testKey, probe);
      log(
        `  gateway: ${sustained.achievedRps} of ${sustained.offeredRps} req/s, p99 ${sustained.latencyMs.p99} ms, event lag p99 ${sustained.eventLagMs.p99} ms, heap ${sustained.memory.map((m) => m.heapMB).join(' → ')} MB`,
      );
      if (sustained.non2xx || sustained.errors || sustained.badBodies)
        failures.push(`gateway sustained createCall: non-2xx ${sustained.non2xx}, errors ${sustained.errors}, bad bodies ${sustained.badBodies}`);
      if (sustained.initiatedReceived !== sustained.callsCreated)
        failures.push(`sustained run: ${sustained.initiatedReceived} INITIATED events received for ${sustained.callsCreated} calls created`);
    }

    for (const server of running.splice(0)) await stopServer(server);

    // Every 2xx createCall inserted a call and its event (in-flight requests cut off at the end of
    // a run may add up to `connections` more per run).
    const after = await counts();
    await probe.end();
    const creates = measurements.filter((m) => m.operation === 'create');
    const fixedCreates = fixedRate.filter((f) => f.operation === 'create');
    const counted =
      creates.reduce((sum, m) => sum + m.total2xx, 0) +
      fixedCreates.reduce((sum, f) => sum + f.total2xx, 0) +
      (sustained?.total2xx ?? 0) +
      settings.servers.length; // + the preflights
    const inserted = after.calls - before.calls;
    const slack = (creates.length * (settings.rounds + 1) + fixedCreates.length) * settings.connections + (sustained ? settings.sustainConnections : 0);
    if (inserted < counted || inserted > counted + slack) failures.push(`${inserted} calls inserted for ${counted} successful createCall responses`);
    // At least the INITIATED event of each (a simulator driving test calls may add more).
    if (after.events - before.events < inserted) failures.push(`${inserted} calls but ${after.events - before.events} events inserted`);

    const ratioList = ratios(measurements);
    const drift = await sqlDrift();
    for (const warning of drift) log(`WARNING: ${warning}`);
    const git = sourceState();
    const report = {
      date: startedAt.toISOString(),
      git,
      finishedAt: new Date().toISOString(),
      machine: machineInfo(),
      database: {
        source,
        name: BENCH_DATABASE,
        postgres: before.version,
        synchronousCommit: settings.synchronousCommit,
        seededCalls: settings.seedCalls,
        seededCompleted: seeded.completed,
        callsInserted: inserted,
      },
      settings: {
        gateway: settings.gateway,
        simulatorTimeScale: settings.simulatorTimeScale,
        tool: 'autocannon 8 (programmatic)',
        connections: settings.connections,
        pipelining: 1,
        warmupSeconds: settings.warmupSeconds,
        durationSeconds: settings.durationSeconds,
        rounds: settings.rounds,
        poolSize: settings.poolSize,
        servers: settings.servers,
        operations: settings.operations,
        cpuProf: settings.cpuProf,
        listPages: LIST_PAGES,
        createTenants: settings.tenants,
      },
      measurements,
      ratios: ratioList,
      fixedRate,
      sustained,
      targets: TARGETS,
      sqlDrift: drift,
      failures,
    };
    const file = await writeReport(report, { stamped: `bench-${fileStamp(startedAt)}.json`, latest: 'latest.json' });

    const out = [
      '',
      `calls-gateway bench, ${startedAt.toISOString()}, src ${git ? `${git.commit}${git.dirty ? ' + uncommitted changes' : ''}` : 'unknown'}: node ${process.version}, ${report.machine.cpus} × ${report.machine.cpuModel}`,
      `PostgreSQL ${before.version} (${source}), database ${BENCH_DATABASE}, synchronous_commit=${settings.synchronousCommit}, ${settings.seedCalls} seeded calls (${seeded.completed} COMPLETED)`,
      `autocannon: ${settings.connections} connections; per server and operation ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s measured (${settings.rounds} interleaved rounds); pg pool ${settings.poolSize} per server`,
      `gateway${settings.gateway.production ? ' as operators run it: NODE_ENV=production' : ': NODE_ENV=development (BENCH_PRODUCTION=0)'}, ${settings.gateway.rateLimitPerMinute === '0' ? 'rate limit off (BENCH_RATE_LIMIT=0)' : `rate limit ${settings.gateway.rateLimitPerMinute}/min per key counted in ${settings.gateway.rateLimitStore}`}, logs at ${settings.gateway.logLevel} (pino, to the bench's output), metrics on, ${settings.gateway.tracing === null ? 'no tracing' : `tracing at ${settings.gateway.tracing} (parentbased_traceidratio, OTLP protobuf to a sink in the bench process)`}`,
      '',
      table(measurements),
      '',
      ratioTable(ratioList),
      '',
      ...(fixedRate.length ? [fixedRateTable(fixedRate), ''] : []),
      ...(sustained ? ['gateway, createCall sustained (a callStatus subscriber per tenant):', '', sustainedTable(sustained), ''] : []),
      ...drift.map((warning) => `WARNING: ${warning}`),
      `results: ${path.relative(ROOT, file)}`,
      '',
    ];
    process.stdout.write(out.join('\n'));

    if (failures.length) {
      process.stderr.write(`\nBENCH FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
      return 1;
    }
    const missed = ratioList.filter((r) => r.meetsTarget === false);
    if (missed.length) {
      process.stderr.write(
        `\ntarget missed: ${missed.map((r) => `${OPERATION_LABEL[r.operation]} (${r.gatewayOverRest?.toFixed(2)}× REST, target ${TARGETS[r.operation]}×)`).join(', ')}\n`,
      );
      if (settings.enforceTarget) return 1;
    }
    return 0;
  } finally {
    await Promise.allSettled(running.map((server) => stopServer(server)));
    await pgServer.stop();
    sink?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`\nBENCH FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
