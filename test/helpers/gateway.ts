import { inject, vi } from 'vitest';
import pg from 'pg';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { AdminStore, AdminError } from '../../src/db/admin-store.js';
import type { ChannelProvider, CommandResult, PlaceCallResult } from '../../src/domain/channel-provider.js';
import { startGateway, type Gateway } from '../../src/server/app.js';
import { silentLogger, type Logger } from '../../src/domain/logger.js';
import type { Call } from '../../src/domain/call.js';
import type { CallCommand } from '../../src/domain/command-rules.js';

export interface TestGateway {
  url: string;
  wsUrl: string;
  gateway: Gateway;
  database: Database;
  admin: AdminStore;
  /** Calls placed through the live test provider, in order. */
  livePlaced: Call[];
  /** The live test provider (with `liveProvider: true`): what it was asked to do. */
  liveProvider: RecordingLiveProvider;
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * Stands in for a configured live provider (the real ones talk to Telnyx, LiveKit and Meta):
 * it records what it is asked to place, so tests can make live-mode calls and check isolation.
 */
class RecordingLiveProvider implements ChannelProvider {
  readonly name = 'recording-live';
  constructor(readonly placed: Call[]) {}
  /** Set to make placeCall never answer (a process that dies while placing the call). */
  hangPlacement = false;
  async placeCall(call: Call): Promise<PlaceCallResult> {
    this.placed.push(call);
    if (this.hangPlacement) await new Promise(() => {});
    return { providerCallId: `rec_${call.id}` };
  }
  /** Commands it was given; it accepts them and never confirms (a provider whose callbacks are lost). */
  readonly executed: CallCommand[] = [];
  unsupported(): string | null {
    return null;
  }
  /** Set to make every command fail as a provider's refusal would. */
  failWith: string | null = null;
  async execute(_call: Call, command: CallCommand): Promise<CommandResult> {
    this.executed.push(command);
    if (this.failWith) throw new Error(this.failWith);
    return { confirmed: false };
  }
}

/** The migrated template database of the run (see global-setup.ts). */
/** Redis for this run (global-setup.ts: REDIS_URL, or a redis-server of its own); '' when there is none, and Redis tests skip. */
export function redisUrl(): string {
  return inject('redisUrl');
}

export function templateUrl(): string {
  return inject('databaseUrl');
}

/**
 * A fresh database copied from the migrated template: each gateway (so each test file) has its
 * own, so one file's simulator, sequencer and sweeps never touch another file's calls.
 */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const template = new URL(templateUrl());
  const templateName = template.pathname.slice(1);
  const name = `${templateName}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new URL(template);
  admin.pathname = '/postgres';
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE "${name}" TEMPLATE "${templateName}"`);
  const url = new URL(template);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export interface BootOptions {
  config?: Partial<Config>;
  liveProvider?: boolean;
  /**
   * Simulated delays: 'fast' (×0.01: a whole lifecycle in ~150 ms) or 'frozen' (×100: nothing
   * moves during a test, for tests about calls as they are created).
   */
  simulator?: 'fast' | 'frozen';
  /** Where the gateway logs (default: nowhere). */
  logger?: Logger;
  /** More environment for loadConfig (provider variables pointing at the fakes in test/fakes/). */
  env?: Record<string, string>;
  /** Run as a second gateway process on this gateway's database (not dropped at stop). */
  shareDatabaseWith?: TestGateway;
}

/** Boots the real gateway (HTTP + WebSocket on a free port) on a fresh database. */
export async function bootGateway(options: BootOptions = {}): Promise<TestGateway> {
  const fresh = options.shareDatabaseWith ? { url: options.shareDatabaseWith.databaseUrl, drop: async () => {} } : await freshDatabase();
  const database = await openDatabase(fresh.url, { poolSize: 5, migrate: false });
  // Simulated calls run 100× faster; the event log polls often, so tests of lost announcements are quick.
  const config = loadConfig(
    // Tests make hundreds of requests with one key (and send bad keys on purpose): the rate
    // limit and the per-address limit on failed authentications are off unless a test sets them.
    {
      NODE_ENV: 'test',
      GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR ?? '',
      GRAPHQL_HTTP: process.env.GRAPHQL_HTTP ?? '',
      SIMULATOR_TIME_SCALE: options.simulator === 'frozen' ? '100' : '0.01',
      EVENT_POLL_MS: '200',
      RATE_LIMIT_PER_MINUTE: '0',
      AUTH_FAILURES_PER_MINUTE: '0',
      ...options.env,
    },
    { port: 0, host: '127.0.0.1', databaseUrl: fresh.url, ...options.config },
  );
  const livePlaced: Call[] = [];
  const live = new RecordingLiveProvider(livePlaced);
  const liveProviders = options.liveProvider ? () => ({ route: () => live, all: [live], webhooks: [], tokens: null, testTokens: null }) : undefined;
  const gateway = await startGateway(config, { database, liveProviders, logger: options.logger ?? silentLogger });
  return {
    url: gateway.url,
    wsUrl: gateway.wsUrl,
    gateway,
    database,
    admin: new AdminStore(database.orm.em),
    livePlaced,
    liveProvider: live,
    databaseUrl: fresh.url,
    async stop() {
      await gateway.stop();
      await database.close();
      await fresh.drop();
    },
  };
}

export interface TestApp {
  id: string;
  testKey: string;
  liveKey: string;
  number: string;
}

/** A random possible US number in the 555 range, unique enough for one test run. */
export function randomNumber(): string {
  return `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/** A new application with its keys and one assigned number. */
export async function newApp(admin: AdminStore, name = 'test app'): Promise<TestApp> {
  const app = await admin.createApp(name);
  for (;;) {
    const number = randomNumber();
    try {
      await admin.assignNumber(app.id, number);
      return { id: app.id, testKey: app.testKey, liveKey: app.liveKey, number };
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
    }
  }
}

export interface GqlResponse<T> {
  status: number;
  /** SQL statements the request sent (the gateway's x-sql-statements header). */
  statements: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

/** One GraphQL request over HTTP, typed by the generated document. */
export async function gql<TData, TVars>(
  url: string,
  key: string | null,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
): Promise<GqlResponse<TData>> {
  return rawGql(url, key, { query: print(document), variables });
}

export async function rawGql<T = any>(url: string, key: string | null, body: unknown): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await response.json()) as Omit<GqlResponse<T>, 'status' | 'statements'>;
  return { status: response.status, statements: Number(response.headers.get('x-sql-statements') ?? NaN), ...json };
}

/** Rows an application has in the call tables, for "nothing was persisted" checks. */
export async function rowCounts(database: Database, appId: string): Promise<{ calls: number; events: number }> {
  const [row] = await database.sql.query<{ calls: string; events: string }>(
    `SELECT (SELECT count(*) FROM call WHERE app_id = $1) AS calls, (SELECT count(*) FROM call_event WHERE app_id = $1) AS events`,
    [appId],
  );
  return { calls: Number(row!.calls), events: Number(row!.events) };
}

/** Rows of one call's commands and recordings, for "a refused command changed nothing" checks. */
export async function commandRowCounts(database: Database, callId: string): Promise<{ events: number; commands: number; recordings: number }> {
  const [row] = await database.sql.query<{ events: string; commands: string; recordings: string }>(
    `SELECT (SELECT count(*) FROM call_event WHERE call_id = $1) AS events, (SELECT count(*) FROM call_command WHERE call_id = $1) AS commands,
            (SELECT count(*) FROM recording WHERE call_id = $1) AS recordings`,
    [callId],
  );
  return { events: Number(row!.events), commands: Number(row!.commands), recordings: Number(row!.recordings) };
}

/** Polls `check` until it holds (for server-side state a test cannot observe otherwise). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  // vitest's own poller; the check is a boolean here, so a false becomes the thrown error it retries on.
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 10 },
  );
}

/** Resolves once the gateway has registered `count` live listeners (subscriptions). */
export function listenersRegistered(gw: TestGateway, count: number): Promise<void> {
  return eventually(() => gw.gateway.liveSubscriptions >= count, 10_000, `${count} subscription(s) to register`);
}

/** Resolves once every committed event is numbered and delivered by this gateway's tailer. */
export function logSettled(gw: TestGateway): Promise<void> {
  return eventually(
    async () => {
      const [row] = await gw.database.sql.query<{ unsequenced: boolean; head: string }>(
        `SELECT EXISTS (SELECT 1 FROM call_event WHERE position IS NULL) AS unsequenced, COALESCE(MAX(position), 0)::text AS head FROM call_event`,
      );
      return !row!.unsequenced && row!.head === gw.gateway.eventLog.head;
    },
    10_000,
    'the event log to settle',
  );
}

/**
 * A response's text with what differs between two gateways or two runs replaced by placeholders
 * (ids, times, cursors), for tests that compare two answers to the same request.
 */
export function withoutRunDetails(text: string): string {
  return text
    .replace(/call_test_[0-9A-Za-z]{27}/g, 'CALL')
    .replace(/(evt|cmd|rec)_[0-9A-Za-z]{27}/g, 'ID')
    .replace(/\d{4}-\d{2}-\d{2}T[0-9:.]+Z/g, 'TIME')
    .replace(/"(cursor|endCursor|startCursor)":"[^"]+"/g, '"$1":"CURSOR"');
}

/** The statements (text and values, as sent) the gateway sends while `run` runs whose text matches `pattern`: to EXPLAIN the real SQL. */
export async function statementsSent(gw: TestGateway, pattern: RegExp, run: () => Promise<unknown>): Promise<{ text: string; values: unknown[] }[]> {
  const sql = gw.database.sql;
  const original = sql.query;
  const seen: { text: string; values: unknown[] }[] = [];
  sql.query = function (this: typeof sql, text: string, values: unknown[] = [], name?: string) {
    if (pattern.test(text)) seen.push({ text, values });
    return original.call(this, text, values, name);
  } as typeof original;
  try {
    await run();
  } finally {
    sql.query = original;
  }
  return seen;
}

/**
 * Holds the gateway's statements that match `pattern` and name `appId` as their first parameter at
 * the database's door until released (the gateway runs in this process): while held, the reads
 * let through cannot finish, so what the gateway does with the next ones does not depend on timing.
 */
export function holdStatements(gw: TestGateway, pattern: RegExp, appId: string) {
  const sql = gw.database.sql;
  const original = sql.query;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const state = { entered: 0 };
  sql.query = async function (this: typeof sql, text: string, values: unknown[] = [], name?: string) {
    if (pattern.test(text) && values[0] === appId) {
      state.entered++;
      await opened;
    }
    return original.call(this, text, values, name);
  } as typeof original;
  return {
    state,
    release() {
      sql.query = original;
      open();
    },
  };
}
