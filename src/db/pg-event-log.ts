import type { CallEventWithCall } from '../domain/call-store.js';
import { EVENT_WITH_CALL_COLUMNS, toEventWithCall } from './pg-call-store.js';
import type { Sql } from './sql.js';

/** Arbitrary constant: the advisory lock that makes one sequencer run at a time. */
const SEQUENCER_LOCK = 7_342_002;

/** The log's SQL: numbering committed events, and reading the numbered log in order. */
export class PgEventLog {
  constructor(private readonly sql: Sql) {}

  /**
   * Numbers up to `batch` committed, unnumbered events max+1, max+2 … in insertion order, under
   * a transaction-scoped advisory lock, so runs in several processes never interleave. The lock
   * is taken in its own statement: a statement's snapshot is taken when it starts, so reading
   * max(position) in the same statement as the lock would read a stale maximum.
   * Returns the newest position, or null when there was nothing to number.
   */
  async sequence(batch: number): Promise<{ position: string; count: number } | null> {
    const client = await this.sql.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
      this.sql.statements += 3;
      const { rows } = await client.query<{ position: string; count: string }>(
        `WITH base AS (SELECT COALESCE(MAX(position), 0) AS p FROM call_event),
              batch AS (SELECT id, row_number() OVER (ORDER BY insert_id) AS rn
                          FROM call_event WHERE position IS NULL ORDER BY insert_id LIMIT $1),
              numbered AS (UPDATE call_event e SET position = base.p + batch.rn FROM batch, base
                            WHERE e.id = batch.id RETURNING e.position)
         SELECT MAX(position)::text AS position, count(*)::text AS count FROM numbered`,
        [batch],
      );
      await client.query('COMMIT');
      const row = rows[0];
      return row && row.position !== null ? { position: row.position, count: Number(row.count) } : null;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async hasUnsequenced(): Promise<boolean> {
    const [row] = await this.sql.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM call_event WHERE position IS NULL) AS found', [], 'log_has_unsequenced');
    return row!.found;
  }

  async head(): Promise<string> {
    const [row] = await this.sql.query<{ position: string }>('SELECT COALESCE(MAX(position), 0)::text AS position FROM call_event', [], 'log_head');
    return row!.position;
  }

  /** Numbered events after `position`, in log order, with their calls (every tenant). */
  async after(position: string, limit: number): Promise<CallEventWithCall[]> {
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id
        WHERE e.position > $1::bigint ORDER BY e.position LIMIT $2`,
      [position, limit],
      'log_after',
    );
    return rows.map(toEventWithCall);
  }
}
