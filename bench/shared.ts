/**
 * What run.ts and its server children share: the options a child process receives, the SQL the
 * baselines send, and the GraphQL documents the load generator posts (what every bench uses is in
 * helpers.ts).
 *
 * The SQL is copied from src/db/pg-call-store.ts on purpose: the baselines must do exactly the
 * database work the gateway does (same statement text, same prepared-statement name for the
 * insert, same unnamed statement for the list), so that what differs between the three
 * measurements is only what runs in Node.
 */

/** Passed to every server child in the BENCH_SERVER environment variable (JSON). */
export interface ServerOptions {
  databaseUrl: string;
  poolSize: number;
  appId: string;
  /** The application's test key (only the gateway checks it). */
  testKey: string;
}

/** child → parent */
export type ChildMessage =
  | { type: 'ready'; port: number }
  | { type: 'error'; message: string }
  | { type: 'cpu'; id: number; userMicros: number; systemMicros: number; statements: number }
  | { type: 'memory'; id: number; heapUsed: number; rss: number; collected: boolean };
/** parent → child: stop, or report the CPU time used so far (process.cpuUsage) */
type ParentMessage = { type: 'stop' } | { type: 'cpu'; id: number } | { type: 'memory'; id: number };

const TO_NUMBER = '+15005550001';
export const LIST_SIZE = 50;

export function readServerOptions(): ServerOptions {
  return jsonEnv<ServerOptions>('BENCH_SERVER', 'dist/bench/run.js');
}

/** A bench server child, started. */
export interface StartedServer {
  port: number;
  stop: () => Promise<void>;
}

/**
 * Statements this process has sent to PostgreSQL, from every pool (the request path's, MikroORM's,
 * the event log's, the rate limit's): counted at `pg.Client#query`, which all of them go through,
 * so every server is counted the same way and background work (the sequencer, the tailer, the
 * polls) is in the figure.
 */
let statements = 0;
function countStatements(): void {
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (pg.Client.prototype as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return query.apply(this, args);
  };
}

/** Tells the parent the port, stops cleanly on its 'stop' (so a --cpu-prof profile is written). */
export function serveChild(start: () => Promise<StartedServer>): void {
  countStatements();
  start().then(
    ({ port, stop }) => {
      process.on('message', (message: ParentMessage) => {
        if (message?.type === 'cpu') {
          const usage = process.cpuUsage();
          process.send!({ type: 'cpu', id: message.id, userMicros: usage.user, systemMicros: usage.system, statements } satisfies ChildMessage);
          return;
        }
        if (message?.type === 'memory') {
          // After a full collection when the child runs with --expose-gc (the sustained run), so
          // successive samples compare what is kept, not what is garbage not yet collected.
          const gc = (globalThis as { gc?: () => void }).gc;
          gc?.();
          const { heapUsed, rss } = process.memoryUsage();
          process.send!({ type: 'memory', id: message.id, heapUsed, rss, collected: gc !== undefined } satisfies ChildMessage);
          return;
        }
        if (message?.type !== 'stop') return;
        stop().then(
          () => process.exit(0),
          (error: unknown) => {
            process.stderr.write(`stop failed: ${String(error)}\n`);
            process.exit(1);
          },
        );
      });
      process.send!({ type: 'ready', port } satisfies ChildMessage);
    },
    (error: unknown) => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.send?.({ type: 'error', message } satisfies ChildMessage, () => process.exit(1));
      setTimeout(() => process.exit(1), 1_000).unref();
    },
  );
  // Orphaned (the parent died): do not keep a server running.
  process.on('disconnect', () => process.exit(0));
}

// --- SQL: the gateway's own statements, so the baselines do the same database work ---------------

import { CALL_COLUMNS, INSERT_CALL, INSERT_CALL_STATEMENT, insertCallValues as gatewayInsertValues } from '../src/db/call-columns.js';
import { CallDirection, CallStatus, isPhoneChannel, roomsFor, type Channel } from '../src/domain/call.js';
import pg from 'pg';
import { FROM_NUMBER, intEnv, jsonEnv } from './helpers.js';

export { INSERT_CALL };
/** The gateway prepares the insert under this name (per connection); the baselines do too. */
export const INSERT_CALL_NAME = INSERT_CALL_STATEMENT;

/** `calls(first: n, filter: {status: [...]})`, newest first, one row more to know hasNextPage. */
const LIST_CALLS = `SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 AND mode = $2 AND status = ANY($3::text[]) ORDER BY created_at DESC, id DESC LIMIT $4`;
/** The same page after a cursor (keyset on created_at, id), as the gateway builds it. */
const LIST_CALLS_AFTER = `SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 AND mode = $2 AND status = ANY($3::text[]) AND (created_at, id) < ($4::timestamptz, $5) ORDER BY created_at DESC, id DESC LIMIT $6`;

/** A list page: the first, or the one after `after` (a callCursor), read with the gateway's SQL. */
export async function listPage(
  pool: pg.Pool,
  appId: string,
  statuses: string[],
  limit: number,
  after: string | null | undefined,
): Promise<{ id: string; createdAt: Date }[]> {
  if (!after) return (await pool.query<{ id: string; createdAt: Date }>(LIST_CALLS, [appId, 'test', statuses, limit + 1])).rows;
  const [tag, createdAt, id] = Buffer.from(after, 'base64url').toString('utf8').split('|');
  if (tag !== 'c1' || !createdAt || !id) throw new Error('bad cursor');
  return (await pool.query<{ id: string; createdAt: Date }>(LIST_CALLS_AFTER, [appId, 'test', statuses, createdAt, id, limit + 1])).rows;
}

/** Parameters of INSERT_CALL for a plain outbound PSTN call without idempotency key. */
export function insertCallValues(options: {
  id: string;
  eventId: string;
  appId: string;
  from: string;
  to: string;
  fromChannel: string;
  toChannel: string;
  metadata: Record<string, unknown>;
}): unknown[] {
  const fromChannel = options.fromChannel as Channel;
  const toChannel = options.toChannel as Channel;
  return gatewayInsertValues(
    { appId: options.appId, mode: 'test' },
    {
      id: options.id,
      eventId: options.eventId,
      options: {},
      direction: CallDirection.OUTBOUND,
      status: CallStatus.INITIATED,
      fromAddress: options.from,
      toAddress: options.to,
      fromChannel,
      toChannel,
      metadata: options.metadata,
      ...roomsFor(options.id, fromChannel, toChannel),
      idempotencyKey: null,
      requestFingerprint: null,
      provider: 'simulator',
    },
    isPhoneChannel(fromChannel),
  );
}

/** The same opaque cursor as src/domain/cursor.ts (so every server does the same work). */
export function callCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`c1|${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

// --- GraphQL documents (the gateway and the bare Apollo server get the very same requests) -----

/** All 17 scalar fields of Call. */
const CALL_FIELDS =
  'id appId direction status fromAddress toAddress fromChannel toChannel duration endReason metadata livekitRoomName startedAt answeredAt endedAt createdAt';

export const CREATE_CALL_DOCUMENT = `mutation CreateCall($input: CreateCallInput!) {
  createCall(input: $input) { call { ${CALL_FIELDS} } userErrors { code } replayed }
}`;

export const LIST_CALLS_DOCUMENT = `query CompletedCalls($first: Int!, $after: String) {
  calls(first: $first, after: $after, filter: { status: [COMPLETED] }) { nodes { ${CALL_FIELDS} } pageInfo { hasNextPage endCursor } }
}`;

/** The list reads page 1 to LIST_PAGES of the seeded COMPLETED calls in turn (BENCH_LIST_PAGES). */
export const LIST_PAGES = intEnv('BENCH_LIST_PAGES', 10, 1, 1_000);

/** createCall's input: the same for every request (the server generates the id). */
export const CREATE_INPUT = { from: FROM_NUMBER, to: TO_NUMBER, metadata: { customer: 'cus_42', campaign: 'bench' } };
