import type { CallEventWithCall } from '../domain/call-store.js';
import { EVENT_WITH_CALL_COLUMNS, toEventWithCall } from './pg-call-store.js';
import type { Sql } from './sql.js';

/** The log's SQL: numbering committed events, and reading the numbered log in order. */
export class PgEventLog {
  constructor(private readonly sql: Sql) {}

  /**
   * Numbers up to `batch` committed, unnumbered events max+1, max+2 … in insertion order, under
   * a transaction-scoped advisory lock, so runs in several processes never interleave
   * (calls_gateway_sequence_events, migration 20261123020000: one round trip).
   * Returns the newest position, or null when there was nothing to number.
   */
  async sequence(batch: number, notifyChannel: string | null): Promise<{ position: string; count: number } | null> {
    const [row] = await this.sql.query<{ position: string | null; count: string }>(
      'SELECT last_position::text AS position, numbered::text AS count FROM calls_gateway_sequence_events($1, $2)',
      [batch, notifyChannel],
      'log_sequence',
    );
    return row && row.position !== null ? { position: row.position, count: Number(row.count) } : null;
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
