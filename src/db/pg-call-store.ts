import type { Call, CallEvent, Tenant } from '../domain/call.js';
import type { CallFilter, CallPage, CallPageQuery, CallStore, InsertCallResult, NewCall } from '../domain/call-store.js';
import type { Sql } from './sql.js';

/** Columns as the domain's `Call` names them: rows need no mapping loop. */
const CALL_COLUMNS = `id, app_id AS "appId", mode, direction, status,
  from_address AS "fromAddress", to_address AS "toAddress",
  from_channel AS "fromChannel", to_channel AS "toChannel",
  duration, end_reason AS "endReason", metadata, livekit_room_name AS "livekitRoomName",
  started_at AS "startedAt", answered_at AS "answeredAt", ended_at AS "endedAt", created_at AS "createdAt"`;

const EVENT_COLUMNS = `id, call_id AS "callId", sequence, status, previous_status AS "previousStatus",
  occurred_at AS "occurredAt", position::text AS position`;

/**
 * Creates the call and its INITIATED event in ONE statement (one round trip, atomic):
 * - the `WHERE` makes the insert conditional on the number being the application's ($14);
 * - `ON CONFLICT DO NOTHING` on the partial unique index makes idempotency a constraint, so
 *   concurrent requests with one key create exactly one call.
 */
const INSERT_CALL = `
WITH inserted AS (
  INSERT INTO call (id, app_id, mode, direction, status, from_address, to_address, from_channel, to_channel,
                    metadata, livekit_room_name, idempotency_key, request_fingerprint, last_sequence)
  SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::jsonb,
         $11::text, $12::text, $13::text, 1
  WHERE NOT $14::boolean OR EXISTS (SELECT 1 FROM phone_number WHERE app_id = $2::text AND number = $6::text)
  ON CONFLICT (app_id, mode, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${CALL_COLUMNS}
), event AS (
  INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at)
  SELECT $15::text, id, "appId", mode, 1, status, NULL, "createdAt" FROM inserted
)
SELECT * FROM inserted`;

/** Builds the tenant predicate and the filter's, with positional parameters. */
class Where {
  readonly clauses: string[] = ['app_id = $1', 'mode = $2'];
  readonly values: unknown[];

  constructor(tenant: Tenant) {
    this.values = [tenant.appId, tenant.mode];
  }

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(clause: string): void {
    this.clauses.push(clause);
  }

  filter(filter: CallFilter): this {
    if (filter.status?.length) this.add(`status = ANY(${this.param(filter.status)}::text[])`);
    if (filter.direction) this.add(`direction = ${this.param(filter.direction)}`);
    if (filter.fromChannel?.length) this.add(`from_channel = ANY(${this.param(filter.fromChannel)}::text[])`);
    if (filter.toChannel?.length) this.add(`to_channel = ANY(${this.param(filter.toChannel)}::text[])`);
    if (filter.fromAddress != null) this.add(`from_address = ${this.param(filter.fromAddress)}`);
    if (filter.toAddress != null) this.add(`to_address = ${this.param(filter.toAddress)}`);
    if (filter.createdAfter) this.add(`created_at >= ${this.param(filter.createdAfter)}`);
    if (filter.createdBefore) this.add(`created_at < ${this.param(filter.createdBefore)}`);
    if (filter.metadata && Object.keys(filter.metadata).length) {
      this.add(`metadata @> ${this.param(JSON.stringify(filter.metadata))}::jsonb`);
    }
    return this;
  }

  toString(): string {
    return this.clauses.join(' AND ');
  }
}

export class PgCallStore implements CallStore {
  constructor(private readonly sql: Sql) {}

  async insert(
    tenant: Tenant,
    call: NewCall,
    options: { requireAssignedNumber: boolean; idempotencyWindowMs: number },
  ): Promise<InsertCallResult> {
    const values = [
      call.id,
      tenant.appId,
      tenant.mode,
      call.direction,
      call.status,
      call.fromAddress,
      call.toAddress,
      call.fromChannel,
      call.toChannel,
      JSON.stringify(call.metadata),
      call.livekitRoomName,
      call.idempotencyKey,
      call.requestFingerprint,
      options.requireAssignedNumber,
      call.eventId,
    ];
    // Two tries: the second only after an expired idempotency key was released.
    for (let attempt = 0; attempt < 2; attempt++) {
      const [created] = await this.sql.query<Call>(INSERT_CALL, values, 'insert_call');
      if (created) return { kind: 'created', call: created };
      if (call.idempotencyKey === null) return { kind: 'number_not_assigned' };

      const [taken] = await this.sql.query<Call & { fingerprint: string | null; expired: boolean }>(
        `SELECT ${CALL_COLUMNS}, request_fingerprint AS fingerprint,
                created_at < now() - make_interval(secs => $4::double precision / 1000) AS expired
           FROM call WHERE app_id = $1 AND mode = $2 AND idempotency_key = $3`,
        [tenant.appId, tenant.mode, call.idempotencyKey, options.idempotencyWindowMs],
      );
      // No call holds the key: the insert was refused for the number, not the key.
      if (!taken) return { kind: 'number_not_assigned' };
      const { fingerprint, expired, ...existing } = taken;
      if (!expired) return { kind: 'idempotency_key_taken', call: existing, fingerprint };
      // The key is older than the window: release it, then insert again.
      await this.sql.query(`UPDATE call SET idempotency_key = NULL WHERE id = $1 AND idempotency_key = $2`, [existing.id, call.idempotencyKey]);
    }
    throw new Error('idempotency key could not be released');
  }

  async findById(tenant: Tenant, id: string): Promise<Call | null> {
    const [row] = await this.sql.query<Call>(
      `SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 AND mode = $2 AND id = $3`,
      [tenant.appId, tenant.mode, id],
      'find_call',
    );
    return row ?? null;
  }

  async findByIds(tenant: Tenant, ids: readonly string[]): Promise<Call[]> {
    return this.sql.query<Call>(`SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 AND mode = $2 AND id = ANY($3::text[])`, [
      tenant.appId,
      tenant.mode,
      ids,
    ]);
  }

  async page(tenant: Tenant, query: CallPageQuery): Promise<CallPage> {
    const where = new Where(tenant).filter(query.filter);
    // Keyset bounds on (created_at, id): correct while new calls arrive, no OFFSET.
    const ascending = query.direction === 'ASC';
    if (query.after) {
      where.add(`(created_at, id) ${ascending ? '>' : '<'} (${where.param(query.after.createdAt)}::timestamptz, ${where.param(query.after.id)})`);
    }
    if (query.before) {
      where.add(`(created_at, id) ${ascending ? '<' : '>'} (${where.param(query.before.createdAt)}::timestamptz, ${where.param(query.before.id)})`);
    }
    // `last` reads the range from its far end, then the rows are put back in the requested order.
    const scanAscending = ascending !== query.fromEnd;
    const order = scanAscending ? 'ASC' : 'DESC';
    const rows = await this.sql.query<Call>(
      `SELECT ${CALL_COLUMNS} FROM call WHERE ${where} ORDER BY created_at ${order}, id ${order} LIMIT ${where.param(query.limit + 1)}`,
      where.values,
    );
    const hasMore = rows.length > query.limit;
    if (hasMore) rows.pop();
    if (query.fromEnd) rows.reverse();
    return { calls: rows, hasMore };
  }

  async count(tenant: Tenant, filter: CallFilter): Promise<number> {
    const where = new Where(tenant).filter(filter);
    const [row] = await this.sql.query<{ count: string }>(`SELECT count(*) AS count FROM call WHERE ${where}`, where.values);
    return Number(row!.count);
  }

  async eventsOfCalls(
    tenant: Tenant,
    callIds: readonly string[],
    page: { first: number; afterSequence: number },
  ): Promise<Map<string, CallEvent[]>> {
    const rows = await this.sql.query<CallEvent>(
      `SELECT ${EVENT_COLUMNS} FROM (
         SELECT e.*, row_number() OVER (PARTITION BY call_id ORDER BY sequence) AS rank
           FROM call_event e
          WHERE app_id = $1 AND mode = $2 AND call_id = ANY($3::text[]) AND sequence > $4
       ) ranked
       WHERE rank <= $5
       ORDER BY call_id, sequence`,
      [tenant.appId, tenant.mode, callIds, page.afterSequence, page.first + 1],
    );
    const byCall = new Map<string, CallEvent[]>(callIds.map((id) => [id, []]));
    for (const row of rows) byCall.get(row.callId)?.push(row);
    return byCall;
  }
}
