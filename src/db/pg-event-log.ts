import type { CallEventWithCall } from '../domain/call-store.js';
import { EVENT_WITH_CALL_COLUMNS, toEventWithCall } from './call-columns.js';
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
    // Not prepared: see after().
    const [row] = await this.sql.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM call_event WHERE position IS NULL) AS found');
    return row!.found;
  }

  async head(): Promise<string> {
    const [row] = await this.sql.query<{ position: string }>('SELECT COALESCE(MAX(position), 0)::text AS position FROM call_event', [], 'log_head');
    return row!.position;
  }

  /**
   * Numbered events after `position`, in log order, with their calls (every tenant).
   *
   * Shaped so that no plan can read more than the page: the events by the position index, then
   * each one's call by primary key (the LIMIT 1 keeps the planner from turning the lateral lookup
   * into a hash join over every call). Not a prepared statement: a generic plan made while the
   * tables were empty (a fresh deployment) hashed the whole `call` table on every read once they
   * had grown, ~1–3 s a read, and live delivery fell seconds behind (bench/event-log.ts).
   */
  async after(position: string, limit: number): Promise<CallEventWithCall[]> {
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT ${EVENT_WITH_CALL_COLUMNS}
         FROM (SELECT * FROM call_event WHERE position > $1::bigint ORDER BY position LIMIT $2) e
         CROSS JOIN LATERAL (SELECT * FROM call WHERE call.id = e.call_id LIMIT 1) c
        ORDER BY e.position`,
      [position, limit],
    );
    return rows.map(toEventWithCall);
  }
}
