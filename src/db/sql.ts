import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { trace, type Link } from '@opentelemetry/api';
import { SpanKind, inSpan, tracing } from '../shared/tracing.js';
import { pgTypes } from './pg-timestamps.js';

/**
 * Counts the statements one HTTP request sends (outside production the gateway returns the count
 * in `x-sql-statements`), so a test or a developer can see that a query plan does not grow with
 * the page size (no N+1).
 */
export const statementScope = new AsyncLocalStorage<{ count: number }>();

/**
 * The raw `pg` pool used by the hot paths (create, list, get, auth). MikroORM keeps its own small
 * pool for the model, migrations and rare writes: hydrating entities into an identity map costs
 * ≈2.5× and persist+flush ≈3× a single statement here, measured on this machine.
 */
export class Sql {
  readonly pool: pg.Pool;
  statements = 0;

  /**
   * `statementTimeoutMs`: PostgreSQL cancels any statement of this pool that runs longer, so a
   * pathological query (or a lock wait) cannot hold a connection of the request path for ever.
   */
  constructor(url: string, max: number, statementTimeoutMs = 30_000) {
    // `types`: timestamps read by the gateway's own parser, to the same Dates (db/pg-timestamps.ts).
    this.pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, statement_timeout: statementTimeoutMs, types: pgTypes });
    // An idle client that errors (server restart) is dropped by the pool; without a listener the
    // error would crash the process.
    this.pool.on('error', () => {});
  }

  /**
   * Runs one statement. A `name` makes it a prepared statement per connection: parsed and
   * planned once, then only bound and executed.
   */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = [], name?: string, links?: Link[]): Promise<R[]> {
    this.statements++;
    const scope = statementScope.getStore();
    if (scope) scope.count++;
    // Inside a recorded span only: the background loops' polls (webhook claims, the log's head) would be a trace each,
    // and a trace not sampled (the 99% at a 1% ratio) gets none: no span, no context switch.
    if (tracing.on && (links?.length || trace.getActiveSpan()?.isRecording())) return this.traced(text, values, name, links);
    const result = await this.pool.query<R>(name ? { name, text, values } : { text, values });
    return result.rows;
  }

  /**
   * One statement in a span (tracing on): its operation and prepared statement's name, never its
   * text or values (some statements carry literals of a filter, metadata among them). `links`:
   * the requests one grouped statement serves (db/call-insert-batch.ts).
   */
  private traced<R extends pg.QueryResultRow>(text: string, values: unknown[], name: string | undefined, links: Link[] | undefined): Promise<R[]> {
    const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
    const attributes = { 'db.system.name': 'postgresql', 'db.operation.name': operation, ...(name ? { 'db.query.summary': name } : {}) };
    return inSpan(name ? `${operation} ${name}` : operation, { kind: SpanKind.CLIENT, attributes, links }, async () => {
      const result = await this.pool.query<R>(name ? { name, text, values } : { text, values });
      return result.rows;
    });
  }

  /** Runs one statement and returns how many rows it changed. */
  async rowCount(text: string, values: unknown[] = []): Promise<number> {
    this.statements++;
    const result = await this.pool.query(text, values);
    return result.rowCount ?? 0;
  }

  /** Resolves when the database answers (readiness). */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
