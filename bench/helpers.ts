/**
 * What every benchmark uses (run.ts, fanout.ts, event-log.ts, webhooks.ts and their children):
 * one percentile rule, one way to read settings from the environment, one way to seed the bench
 * application, one CPU meter, the clock, the database and the files a run writes.
 *
 * Every bench process imports this module, the fan-out's subscriber harness too: its static
 * imports are Node's own, and pg and the gateway's database code are loaded by the functions
 * that use them.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { CreatedApp } from '../src/db/admin-store.js';
import type { Database } from '../src/db/database.js';
import type { RunningDatabase } from '../src/db/embedded-postgres.js';

// --- statistics ----------------------------------------------------------------------------------

/**
 * Nearest-rank percentile of an ascending array: the smallest value with at least p % of the
 * values at or below it (p 100: the largest); NaN when there is none.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The nearest-rank median (of an even count, the lower of the two middle values). */
export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** `value` rounded to `decimals` places, for a report. */
export function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

// --- settings from the environment ---------------------------------------------------------------

/** An integer from min to max; `fallback` when unset or empty. */
export function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** A number from min to max; `fallback` when unset or empty. */
export function numberEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** A comma-separated list (blanks dropped); `fallback` when unset or empty. */
function listEnv(name: string, fallback: readonly string[]): string[] {
  const raw = process.env[name];
  if (!raw) return [...fallback];
  return raw
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
}

/** A comma-separated list of some of `allowed`; `fallback` (all of them) when unset or empty. */
export function choicesEnv<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[] = allowed): T[] {
  const values = listEnv(name, fallback);
  for (const value of values) if (!allowed.includes(value as T)) throw new Error(`${name}: unknown "${value}" (one of ${allowed.join(', ')})`);
  return values as T[];
}

/** A comma-separated list of integers from min to max; `fallback` when unset or empty. */
export function intListEnv(name: string, fallback: readonly number[], min: number, max: number): number[] {
  return listEnv(name, fallback.map(String)).map((raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name}: "${raw}" is not an integer from ${min} to ${max}`);
    return value;
  });
}

/** A switch: '1' on, '0' off, anything else (unset too) `fallback`. */
export function flagEnv(name: string, fallback = false): boolean {
  const raw = process.env[name];
  return raw === '1' ? true : raw === '0' ? false : fallback;
}

const SYNCHRONOUS_COMMIT = ['on', 'off', 'local', 'remote_write', 'remote_apply'];

/** The bench database's synchronous_commit (default off: the benches measure Node, not this machine's fsync). */
export function synchronousCommitEnv(name: string): string {
  const value = process.env[name] || 'off';
  if (!SYNCHRONOUS_COMMIT.includes(value)) throw new Error(`${name}: "${value}" is not a synchronous_commit value`);
  return value;
}

/** Ports a bench's embedded PostgreSQL must not take. */
const RESERVED_PG_PORTS: Record<number, string> = { 5432: "the machine's PostgreSQL", 54329: "the gateway's embedded PostgreSQL" };

/** The embedded PostgreSQL's port: not the machine's, not the gateway's, nor one of `reserved`. */
export function pgPortEnv(name: string, fallback: number, reserved: Record<number, string> = {}): number {
  const port = intEnv(name, fallback, 1024, 65535);
  const taken = reserved[port] ?? RESERVED_PG_PORTS[port];
  if (taken) throw new Error(`${name} must not be ${port} (${taken})`);
  return port;
}

/** A child's options, passed by its parent as JSON in `name`. */
export function jsonEnv<T>(name: string, startedBy: string): T {
  const raw = process.env[name];
  if (!raw) throw new Error(`${name} is not set: this file is started by ${startedBy}`);
  return JSON.parse(raw) as T;
}

// --- time ----------------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wall clock with sub-millisecond resolution, comparable across processes of this machine
 * (timeOrigin is the process start on the same system clock).
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** A time as it goes in a file name (2026-12-02T17-59-00-000Z). */
export const fileStamp = (date: Date = new Date()): string => date.toISOString().replace(/[:.]/g, '-');

// --- load ----------------------------------------------------------------------------------------

/** Runs task(job, worker) for jobs 0 … jobs − 1 on at most `workers` workers, each taking the next job when its last is done. */
export async function runWorkers(jobs: number, workers: number, task: (job: number, worker: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, jobs) }, async (_, worker) => {
      while (next < jobs) await task(next++, worker);
    }),
  );
}

/** POSTs a GraphQL operation with `key` as the bearer; the parsed body. */
export async function postGraphQL<T = any>(url: string, key: string, query: string, variables: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as T;
}

// --- CPU -----------------------------------------------------------------------------------------

/** Clock ticks per second of /proc's utime and stime (USER_HZ). */
const USER_HZ = 100;

/** Starts measuring this process's CPU time: the function returned gives the user and system µs since. */
export function processCpu(): () => NodeJS.CpuUsage {
  const start = process.cpuUsage();
  return () => process.cpuUsage(start);
}

/** A process's parent and CPU time (utime + stime, clock ticks), from /proc; null if it is gone (or no /proc). */
function procStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state ppid … utime (14th field) stime (15th).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** The postmaster of `client`'s server (its backend's parent), or null when that server is not a process of this machine. */
export async function findPostmaster(client: pg.Client): Promise<number | null> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return procStat(rows[0]!.pid)?.ppid ?? null;
}

/**
 * CPU time (user + system, µs) used so far by the PostgreSQL server's processes (the postmaster's
 * children: backends, WAL writer…), from /proc; null without a postmaster on this machine. It shows
 * the database work a request causes, e.g. the gateway's event sequencing.
 */
export function postgresCpuMicros(postmaster: number | null): number | null {
  if (postmaster === null) return null;
  let ticks = 0;
  for (const pid of allPids()) {
    const stat = procStat(pid);
    if (stat && stat.ppid === postmaster) ticks += stat.ticks;
  }
  return (ticks * 1e6) / USER_HZ;
}

/** PostgreSQL backends serving `database` (their command line names it). */
export function backendsOf(database: string): number[] {
  return allPids().filter((pid) => {
    try {
      // "postgres: <user> <database> <host>(<port>) <state>"
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `);
    } catch {
      return false; // exited
    }
  });
}

/**
 * CPU used by the processes other than `own()` (another benchmark on this 2-core machine shows
 * up here), from /proc. Linux only; zeros elsewhere.
 */
export class CpuMeter {
  constructor(private readonly own: () => number[]) {}

  private static systemBusy(): number {
    try {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      // user nice system idle iowait irq softirq steal
      return fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!;
    } catch {
      return 0;
    }
  }

  private static ticks(pids: number[]): number {
    let total = 0;
    for (const pid of pids) total += procStat(pid)?.ticks ?? 0;
    return total;
  }

  start(): () => { otherCpuMs: number; ownCpuMs: number; wallMs: number } {
    const pids = this.own();
    const system = CpuMeter.systemBusy();
    const own = CpuMeter.ticks(pids);
    const wall = performance.now();
    return () => {
      const ownTicks = CpuMeter.ticks(pids) - own;
      return {
        otherCpuMs: (Math.max(0, CpuMeter.systemBusy() - system - ownTicks) * 1000) / USER_HZ,
        ownCpuMs: (ownTicks * 1000) / USER_HZ,
        wallMs: performance.now() - wall,
      };
    };
  }
}

// --- database and seeding -------------------------------------------------------------------------

/** The number every bench application calls from (assigned to it when it is created). */
export const FROM_NUMBER = '+15551234567';
/** A test-mode destination that is answered and stays IN_PROGRESS (INITIATED, RINGING, IN_PROGRESS). */
export const TO_STAYS_IN_PROGRESS = '+15005550006';

export interface PreparedDatabase {
  server: RunningDatabase;
  /** The fresh bench database. */
  url: string;
  /** A database of the same server to create and drop it from. */
  adminUrl: string;
  /** Where it runs, for the report. */
  source: string;
}

/**
 * The server to use (DATABASE_URL, or the embedded PostgreSQL in `dataDir` on `port`), with a
 * fresh database `name` whose commits need not wait for the WAL flush when `synchronousCommit`
 * is off: the benches measure the Node side, not this machine's fsync latency.
 */
export async function prepareBenchDatabase(options: {
  name: string;
  dataDir: string;
  port: number;
  synchronousCommit: string;
  log: (line: string) => void;
}): Promise<PreparedDatabase> {
  const { default: pg } = await import('pg');
  let server: RunningDatabase;
  let adminUrl: string;
  let source: string;
  if (process.env.DATABASE_URL) {
    server = { url: process.env.DATABASE_URL, owned: false, stop: async () => {} };
    const admin = new URL(process.env.DATABASE_URL);
    // Never connected to the database about to be dropped.
    if (admin.pathname.replace(/^\//, '').startsWith(options.name) || admin.pathname === '/' || admin.pathname === '') admin.pathname = '/postgres';
    adminUrl = admin.toString();
    source = 'DATABASE_URL';
  } else {
    const { startEmbeddedPostgres } = await import('../src/db/embedded-postgres.js');
    options.log(`starting the embedded PostgreSQL (data in ${options.dataDir}/pg, port ${options.port})`);
    server = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.port, database: 'postgres' });
    adminUrl = server.url;
    source = `embedded PostgreSQL on 127.0.0.1:${options.port}${server.owned ? '' : ' (already running)'}`;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${options.name}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${options.name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${options.name}`);
    await client.query(`ALTER DATABASE ${options.name} SET synchronous_commit = ${options.synchronousCommit}`);
  } finally {
    await client.end();
  }
  return { server, url: url.toString(), adminUrl, source };
}

/** Drops the bench database `name` (a failure is logged, not thrown: the run's results stand). */
export async function dropBenchDatabase(adminUrl: string, name: string, log: (line: string) => void): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (error) {
    log(`could not drop ${name}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** An application (its test and live keys) with `number` assigned: what a bench sends as. */
export async function createBenchApp(database: Database, name: string, number = FROM_NUMBER): Promise<CreatedApp> {
  const { AdminStore } = await import('../src/db/admin-store.js');
  const admin = new AdminStore(database.orm.em);
  const app = await admin.createApp(name);
  await admin.assignNumber(app.id, number);
  return app;
}

/** Whether an event still waits for the sequencer (its position is NULL until it is numbered). */
export async function eventsPending(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ pending: boolean }>('SELECT EXISTS (SELECT 1 FROM call_event WHERE position IS NULL) AS pending');
  return rows[0]!.pending;
}

// --- a gateway process ---------------------------------------------------------------------------

/** A free loopback port (closed again at once: the next listener takes it). */
export async function freePort(): Promise<number> {
  const { default: net } = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `calls-gateway serve` as an operator runs it (NODE_ENV=production, `env` on top), once it listens. */
export async function serveGateway(env: Record<string, string>): Promise<{ child: import('node:child_process').ChildProcess; output: () => string }> {
  const { spawn } = await import('node:child_process');
  const cli = path.join(ROOT, 'dist', 'src', 'cli.js');
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, NODE_ENV: 'production', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
    child.stdout!.on('data', () => {
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${output}`)));
  });
}

// --- reports -------------------------------------------------------------------------------------

/** The repository root (this file runs as dist/bench/helpers.js). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const PROFILES_DIR = path.join(RESULTS_DIR, 'profiles');

/** A bench's log: lines to stderr, each after its `[prefix]`. */
export function benchLog(prefix: string): (line: string) => void {
  return (line) => void process.stderr.write(`[${prefix}] ${line}\n`);
}

/** A Markdown table, as the READMEs show results. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Writes `report` to bench/results/`latest` and, given `stamped`, to bench/results/`stamped` first; the path of the first file written. */
export async function writeReport(report: unknown, files: { latest: string; stamped?: string }): Promise<string> {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  await mkdir(RESULTS_DIR, { recursive: true });
  const written = files.stamped ? [files.stamped, files.latest] : [files.latest];
  for (const file of written) await writeFile(path.join(RESULTS_DIR, file), text);
  return path.join(RESULTS_DIR, written[0]!);
}

/** The machine a run measured. */
export function machineInfo(): { node: string; platform: string; cpus: number; cpuModel: string; memoryGb: number; loadavg: number[] } {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg(),
  };
}

/** The commit measured (12 hex digits) and `git status --porcelain` of `paths`; null and [] outside a git checkout. */
export function gitState(paths: string[]): { commit: string | null; dirty: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return {
      commit: git('rev-parse', '--short=12', 'HEAD'),
      dirty: git('status', '--porcelain', '--', ...paths)
        .split('\n')
        .filter(Boolean),
    };
  } catch {
    return { commit: null, dirty: [] };
  }
}
