import { activeLink, activeTraceParent, contextOfTraceParent, recordSpan, tracing } from '../shared/tracing.js';
import { CallDirection, CallEventKind, type Call, type CallEvent, type Mode, type Tenant } from '../domain/call.js';
import {
  CallOrderField,
  type CallEventWithCall,
  type CallFilter,
  type CallPage,
  type CallPageQuery,
  type CallStore,
  type InsertCallResult,
  type NewCall,
  type ParkedState,
  type TransitionPlan,
  type Viewer,
} from '../domain/call-store.js';
import { LIVE_STATUSES } from '../domain/call-status-rules.js';
import { CallStatsGroup, type CallStats, type CallStatsKey, type CallStatsQuery, type CallStatsRow } from '../domain/call-store.js';
import { CallCommandStatus, PENDING_COMMAND_STATUSES, RecordingStatus } from '../domain/command-rules.js';
import type { Sql } from './sql.js';
import { inList, lit } from './sql-literals.js';
import { CallInsertBatch } from './call-insert-batch.js';
import { CALL_COLUMNS, EVENT_COLUMNS, EVENT_WITH_CALL_COLUMNS, insertCallValues, toEventWithCall } from './call-columns.js';
import { Where } from './where.js';
import { KeyedLimiter } from '../shared/keyed-limiter.js';
import { TooBusyError } from '../domain/errors.js';

/**
 * Applies one transition in ONE statement. The UPDATE's WHERE is the state machine's guard:
 * it re-checks the status on the locked row, so of two concurrent updates only one that still
 * applies wins, and a duplicate, late or backwards one changes nothing. The event takes the
 * next per-call sequence in the same statement, so sequences have no gaps.
 */
const APPLY_TRANSITION = `
WITH old AS (
  SELECT id, status, recording_id FROM call WHERE id = $1::text FOR UPDATE
), updated AS (
  UPDATE call c SET
    status = $2::text,
    last_sequence = c.last_sequence + 1,
    updated_at = now(),
    started_at = CASE WHEN $5::boolean THEN COALESCE(c.started_at, $3::timestamptz) ELSE c.started_at END,
    answered_at = CASE WHEN $6::boolean THEN COALESCE(c.answered_at, $3::timestamptz) ELSE c.answered_at END,
    ended_at = CASE WHEN $7::boolean THEN $3::timestamptz ELSE c.ended_at END,
    duration = CASE WHEN NOT $7::boolean THEN c.duration
                    WHEN COALESCE(c.answered_at, CASE WHEN $6::boolean THEN $3::timestamptz END) IS NULL THEN 0
                    ELSE GREATEST(0, round(extract(epoch FROM ($3::timestamptz - COALESCE(c.answered_at, $3::timestamptz)))))::int END,
    end_reason = CASE WHEN NOT $7::boolean THEN c.end_reason
                      ELSE COALESCE($4::text, ($8::text[])[array_position($9::text[], old.status)]) END,
    hangup_source = CASE WHEN $7::boolean THEN $12::text ELSE c.hangup_source END,
    sip_code = CASE WHEN $7::boolean THEN $13::int ELSE c.sip_code END,
    -- An ended call is no longer on hold, muted or being recorded.
    on_hold = c.on_hold AND NOT $7::boolean,
    muted_legs = CASE WHEN $7::boolean THEN '{}' ELSE c.muted_legs END,
    recording_id = CASE WHEN $7::boolean THEN NULL ELSE c.recording_id END
  FROM old
  WHERE c.id = old.id AND c.status = ANY($9::text[])
  RETURNING c.*, old.status AS previous_status, old.recording_id AS previous_recording_id
), event AS (
  INSERT INTO call_event (id, call_id, app_id, mode, sequence, status, previous_status, occurred_at, command_id)
  SELECT $10::text, id, app_id, mode, last_sequence, status, previous_status, $3::timestamptz, $11::text FROM updated
), command AS (
  UPDATE call_command SET status = ${lit(CallCommandStatus.APPLIED)}, updated_at = now()
   WHERE $11::text IS NOT NULL AND id = $11::text AND status IN ${inList(PENDING_COMMAND_STATUSES)} AND EXISTS (SELECT 1 FROM updated)
), recording AS (
  -- The provider saves a recording the call's end interrupted; its callback completes the row.
  UPDATE recording SET status = ${lit(RecordingStatus.PROCESSING)}, updated_at = now()
   WHERE id = (SELECT previous_recording_id FROM updated WHERE $7::boolean) AND status = ${lit(RecordingStatus.RECORDING)}
)
SELECT ${CALL_COLUMNS}, previous_status AS "previousStatus", last_sequence AS sequence FROM updated`;

/** Each callStats group's SQL and the key it fills. Fixed strings: no input reaches the SQL text. */
const STATS_GROUPS: Record<CallStatsGroup, { sql: string; key: keyof CallStatsKey }> = {
  [CallStatsGroup.STATUS]: { sql: 'status', key: 'status' },
  [CallStatsGroup.CHANNEL]: { sql: `CASE WHEN direction = ${lit(CallDirection.INBOUND)} THEN from_channel ELSE to_channel END`, key: 'channel' },
  [CallStatsGroup.DIRECTION]: { sql: 'direction', key: 'direction' },
  [CallStatsGroup.END_REASON]: { sql: 'end_reason', key: 'endReason' },
  [CallStatsGroup.MINUTE]: { sql: `date_trunc('minute', created_at, 'UTC')`, key: 'period' },
  [CallStatsGroup.HOUR]: { sql: `date_trunc('hour', created_at, 'UTC')`, key: 'period' },
  [CallStatsGroup.DAY]: { sql: `date_trunc('day', created_at, 'UTC')`, key: 'period' },
};

type StatsSqlRow = Partial<CallStatsKey> & {
  isTotal: boolean;
  count: number;
  answered: number;
  averageDuration: number | null;
  p95Duration: number | null;
  logHead: string;
  logUnnumbered: string[];
};

/** Unnumbered events a callStats answer lists (CallStats.asOf); more (a log falling behind): no asOf. */
const MAX_UNNUMBERED = 100;

/** Each listing order's column and its SQL type. */
const ORDER_COLUMNS: Record<CallOrderField, { name: string; type: 'timestamptz' | 'int' }> = {
  [CallOrderField.CREATED_AT]: { name: 'created_at', type: 'timestamptz' },
  [CallOrderField.STARTED_AT]: { name: 'started_at', type: 'timestamptz' },
  [CallOrderField.ENDED_AT]: { name: 'ended_at', type: 'timestamptz' },
  [CallOrderField.DURATION]: { name: 'duration', type: 'int' },
};

export class PgCallStore implements CallStore {
  /** createCall's inserts of one event-loop turn, sent as one statement (call-insert-batch.ts). */
  private readonly inserts: CallInsertBatch;

  /**
   * callStats and totalCount read every call of a range: per application, at most
   * `heavy.concurrent` run at once in this process and `heavy.waiting` more wait (else
   * TooBusyError), so a document of aliased month-wide aggregations, or a tenant sending many,
   * holds a bounded share of the pool and other tenants' requests still get connections.
   *
   * Access tokens do not use the secret key's budget: all tokens of an application share one of
   * the same size (key `tokens:<app>`), and each token may hold only `tokenSharePercent` of it
   * (at least one read), so one browser user can neither starve its backend nor the other users.
   */
  private readonly heavy: KeyedLimiter;
  private readonly heavyPerToken: KeyedLimiter;

  constructor(
    private readonly sql: Sql,
    /** HEAVY_READS_PER_APPLICATION, HEAVY_READS_WAITING and RATE_LIMIT_TOKEN_SHARE (config holds their defaults). */
    heavy: { concurrent: number; waiting: number; tokenSharePercent?: number },
  ) {
    this.inserts = new CallInsertBatch(sql);
    const tooBusy = () => new TooBusyError();
    this.heavy = new KeyedLimiter(heavy.concurrent, heavy.waiting, tooBusy);
    const share = (heavy.tokenSharePercent ?? 100) / 100;
    this.heavyPerToken = new KeyedLimiter(Math.max(1, Math.ceil(heavy.concurrent * share)), Math.ceil(heavy.waiting * share), tooBusy);
  }

  /** Runs a heavy read within the budget of its caller: the application's key, or the token (see `heavy`). */
  private heavyRead<T>(viewer: Viewer, task: () => Promise<T>): Promise<T> {
    if (!viewer.token) return this.heavy.run(viewer.appId, task);
    return this.heavyPerToken.run(viewer.token.id, () => this.heavy.run(`tokens:${viewer.appId}`, task));
  }

  async insert(tenant: Tenant, call: NewCall, options: { requireAssignedNumber: boolean; idempotencyWindowMs: number }): Promise<InsertCallResult> {
    // The call keeps the trace of the request that created it (null while tracing is off).
    const values = insertCallValues(tenant, tracing.on ? { ...call, traceParent: activeTraceParent() } : call, options.requireAssignedNumber);
    // Two tries: the second only after an expired idempotency key was released.
    for (let attempt = 0; attempt < 2; attempt++) {
      const created = await this.inserts.insert(values);
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

  async applyTransition(plan: TransitionPlan): Promise<{ call: Call; event: CallEvent } | null> {
    const started = tracing.on ? Date.now() : 0;
    const [row] = await this.sql.query<Call & { previousStatus: CallEvent['previousStatus']; sequence: number }>(
      APPLY_TRANSITION,
      [
        plan.callId,
        plan.status,
        plan.occurredAt,
        plan.endReason,
        plan.rang,
        plan.answered,
        plan.terminal,
        plan.defaultEndReasons,
        plan.appliesFrom,
        plan.eventId,
        plan.commandId,
        plan.hangupSource,
        plan.sipCode,
      ],
      'apply_transition',
    );
    if (!row) return null;
    const { previousStatus, sequence, ...call } = row;
    // A status change is a span of the call's own trace, linked to what caused it (a provider's
    // callback, a command's operation, the simulator's timer, the sweep).
    if (tracing.on) {
      const cause = activeLink();
      recordSpan(`call ${call.status.toUpperCase()}`, {
        parent: contextOfTraceParent(call.traceParent),
        links: cause ? [cause] : undefined,
        startTime: started,
        attributes: {
          'calls.call_id': call.id,
          'calls.app_id': call.appId,
          'calls.status': call.status,
          'calls.previous_status': previousStatus ?? '',
          'calls.sequence': sequence,
        },
      });
    }
    return {
      call,
      event: {
        id: plan.eventId,
        callId: call.id,
        sequence,
        status: call.status,
        previousStatus,
        occurredAt: plan.occurredAt,
        kind: CallEventKind.STATUS_CHANGED,
        commandId: plan.commandId,
        digits: null,
        position: null,
      },
    };
  }

  async latestEvent(tenant: Viewer, callId: string): Promise<CallEventWithCall | null> {
    if (tenant.scope) {
      const where = new Where(tenant, 'c.', 'e.status');
      where.add(`e.call_id = ${where.param(callId)}`);
      const rows = await this.sql.query<Record<string, unknown>>(
        `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id WHERE ${where.toString()} ORDER BY e.sequence DESC LIMIT 1`,
        where.values,
      );
      return rows[0] ? toEventWithCall(rows[0]) : null;
    }
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id
        WHERE e.app_id = $1 AND e.mode = $2 AND e.call_id = $3 ORDER BY e.sequence DESC LIMIT 1`,
      [tenant.appId, tenant.mode, callId],
    );
    return rows[0] ? toEventWithCall(rows[0]) : null;
  }

  async callEventsAfter(tenant: Viewer, callId: string, afterSequence: number, limit: number): Promise<CallEventWithCall[]> {
    if (tenant.scope) {
      const where = new Where(tenant, 'c.', 'e.status');
      where.add(`e.call_id = ${where.param(callId)}`);
      where.add(`e.sequence > ${where.param(afterSequence)}`);
      const rows = await this.sql.query<Record<string, unknown>>(
        `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id
          WHERE ${where.toString()} ORDER BY e.sequence LIMIT ${where.param(limit)}`,
        where.values,
      );
      return rows.map(toEventWithCall);
    }
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id
        WHERE e.app_id = $1 AND e.mode = $2 AND e.call_id = $3 AND e.sequence > $4 ORDER BY e.sequence LIMIT $5`,
      [tenant.appId, tenant.mode, callId, afterSequence, limit],
    );
    return rows.map(toEventWithCall);
  }

  async tenantEventsAfter(tenant: Viewer, position: string, filter: CallFilter, limit: number): Promise<CallEventWithCall[]> {
    const where = new Where(tenant, 'c.', 'e.status').filter(filter);
    where.add(`e.position > ${where.param(position)}::bigint`);
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT ${EVENT_WITH_CALL_COLUMNS} FROM call_event e JOIN call c ON c.id = e.call_id
        WHERE ${where.toString()} ORDER BY e.position LIMIT ${where.param(limit)}`,
      where.values,
    );
    return rows.map(toEventWithCall);
  }

  async positionOf(tenant: Tenant, callId: string, sequence: number): Promise<string | null> {
    const [row] = await this.sql.query<{ position: string | null }>(
      `SELECT position::text AS position FROM call_event WHERE app_id = $1 AND mode = $2 AND call_id = $3 AND sequence = $4`,
      [tenant.appId, tenant.mode, callId, sequence],
    );
    return row?.position ?? null;
  }

  async unfinishedCalls(
    mode: Mode,
    limit: number,
    options: { parked: readonly ParkedState[]; perApplication: number },
  ): Promise<{ call: Call; lastEventAt: Date }[]> {
    const rows = await this.sql.query<Call & { lastEventAt: Date }>(
      `WITH due AS (
         SELECT id, row_number() OVER (PARTITION BY app_id ORDER BY created_at, id) AS rank FROM call
          WHERE mode = $1 AND status = ANY($5::text[])
            -- Parked (its scenario waits for a command), unless its timeLimit will end it.
            AND NOT (direction = ${lit(CallDirection.OUTBOUND)} AND (to_address, status) IN (SELECT * FROM unnest($3::text[], $4::text[])) AND NOT options ? 'timeLimit')
       )
       SELECT ${CALL_COLUMNS}, (SELECT max(occurred_at) FROM call_event e WHERE e.call_id = call.id) AS "lastEventAt"
         FROM call JOIN due USING (id) WHERE due.rank <= $6
        ORDER BY created_at LIMIT $2`,
      [mode, limit, options.parked.map((state) => state.toAddress), options.parked.map((state) => state.status), LIVE_STATUSES, options.perApplication],
    );
    return rows.map(({ lastEventAt, ...call }) => ({ call, lastEventAt }));
  }

  async findById(tenant: Viewer, id: string): Promise<Call | null> {
    if (tenant.scope) return (await this.findByIds(tenant, [id]))[0] ?? null;
    const [row] = await this.sql.query<Call>(
      `SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 AND mode = $2 AND id = $3`,
      [tenant.appId, tenant.mode, id],
      'find_call',
    );
    return row ?? null;
  }

  async applicationOfNumber(number: string): Promise<string | null> {
    const [row] = await this.sql.query<{ appId: string }>(`SELECT app_id AS "appId" FROM phone_number WHERE number = $1`, [number]);
    return row?.appId ?? null;
  }

  async findByIds(tenant: Viewer, ids: readonly string[]): Promise<Call[]> {
    if (tenant.scope) {
      const where = new Where(tenant);
      where.add(`id = ANY(${where.param(ids)}::text[])`);
      return this.sql.query<Call>(`SELECT ${CALL_COLUMNS} FROM call WHERE ${where.toString()}`, where.values);
    }
    return this.sql.query<Call>(`SELECT ${CALL_COLUMNS} FROM call WHERE app_id = $1 AND mode = $2 AND id = ANY($3::text[])`, [tenant.appId, tenant.mode, ids]);
  }

  async page(tenant: Viewer, query: CallPageQuery): Promise<CallPage> {
    const where = new Where(tenant).filter(query.filter);
    // The order's column (the enum's values are the column names: no input reaches the SQL text)
    // and its type; a listing by a column that can be NULL holds the calls that have it, which is
    // also the predicate of its partial index (call.entity.ts).
    const column = ORDER_COLUMNS[query.orderBy];
    if (query.orderBy !== CallOrderField.CREATED_AT) where.add(`${column.name} IS NOT NULL`);
    // Keyset bounds on (column, id): correct while new calls arrive, no OFFSET.
    const ascending = query.direction === 'ASC';
    if (query.after) {
      where.add(`(${column.name}, id) ${ascending ? '>' : '<'} (${where.param(query.after.value)}::${column.type}, ${where.param(query.after.id)})`);
    }
    if (query.before) {
      where.add(`(${column.name}, id) ${ascending ? '<' : '>'} (${where.param(query.before.value)}::${column.type}, ${where.param(query.before.id)})`);
    }
    // `last` reads the range from its far end, then the rows are put back in the requested order.
    const scanAscending = ascending !== query.fromEnd;
    const order = scanAscending ? 'ASC' : 'DESC';
    const rows = await this.sql.query<Call>(
      `SELECT ${CALL_COLUMNS} FROM call WHERE ${where.toString()} ORDER BY ${column.name} ${order}, id ${order} LIMIT ${where.param(query.limit + 1)}`,
      where.values,
    );
    const hasMore = rows.length > query.limit;
    if (hasMore) rows.pop();
    if (query.fromEnd) rows.reverse();
    return { calls: rows, hasMore };
  }

  stats(tenant: Viewer, query: CallStatsQuery, maxGroups: number): Promise<CallStats & { truncated: boolean }> {
    return this.heavyRead(tenant, () => this.statsNow(tenant, query, maxGroups));
  }

  private async statsNow(tenant: Viewer, query: CallStatsQuery, maxGroups: number): Promise<CallStats & { truncated: boolean }> {
    const where = new Where(tenant).filter(query.filter);
    where.add(`created_at >= ${where.param(query.from)}::timestamptz`);
    where.add(`created_at < ${where.param(query.to)}::timestamptz`);
    const groups = query.groupBy.map((group) => STATS_GROUPS[group]);
    const keys = groups.map((group) => `${group.sql} AS "${group.key}"`);
    const list = groups.map((group) => group.sql).join(', ');
    // Where the figures stand in the event log, in the same statement (the same snapshot): the
    // tenant's newest numbered event, and the events of counted calls not numbered yet (by the
    // partial index on unnumbered events, each checked against its call by primary key; at most
    // MAX_UNNUMBERED + 1 read): a few index probes beside the scan.
    const log = `(SELECT COALESCE(max(position), 0)::text FROM call_event WHERE app_id = $1 AND mode = $2) AS "logHead",
              ARRAY(SELECT e.id FROM call_event e WHERE e.position IS NULL AND e.app_id = $1 AND e.mode = $2
                       AND EXISTS (SELECT 1 FROM call WHERE id = e.call_id AND ${where.toString()}) LIMIT ${MAX_UNNUMBERED + 1}) AS "logUnnumbered"`;
    // One scan: GROUPING SETS gives the groups and the total (the row where every key is rolled up).
    const rows = await this.sql.query<StatsSqlRow>(
      `SELECT ${[...keys, `${groups.length ? `GROUPING(${list})` : '0'} <> 0 AS "isTotal"`, log].join(', ')},
              count(*)::int AS count, count(answered_at)::int AS answered,
              (avg(duration) FILTER (WHERE answered_at IS NOT NULL AND duration IS NOT NULL))::float8 AS "averageDuration",
              (percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) FILTER (WHERE answered_at IS NOT NULL AND duration IS NOT NULL))::float8 AS "p95Duration"
         FROM call WHERE ${where.toString()}
        GROUP BY GROUPING SETS (${groups.length ? `(${list}), ` : ''}())
        ORDER BY "isTotal" DESC${groups.length ? `, ${list}` : ''}
        LIMIT ${where.param(maxGroups + 2)}`,
      where.values,
    );
    const [totalRow, ...groupRows] = rows;
    const unnumbered = totalRow!.logUnnumbered;
    const asOf = unnumbered.length > MAX_UNNUMBERED ? null : { position: totalRow!.logHead, countedAfter: unnumbered };
    const toRow = (row: StatsSqlRow | undefined): CallStatsRow => ({
      key: {
        status: row?.status ?? null,
        channel: row?.channel ?? null,
        direction: row?.direction ?? null,
        endReason: row?.endReason ?? null,
        period: row?.period ?? null,
      },
      count: row?.count ?? 0,
      answered: row?.answered ?? 0,
      answerRate: row && row.count > 0 ? row.answered / row.count : null,
      averageDuration: row?.averageDuration ?? null,
      p95Duration: row?.p95Duration ?? null,
    });
    // With no call in range, GROUPING SETS still returns the total row (count 0).
    return { total: toRow(totalRow), groups: groupRows.slice(0, maxGroups).map(toRow), truncated: groupRows.length > maxGroups, asOf };
  }

  count(tenant: Viewer, filter: CallFilter): Promise<number> {
    return this.heavyRead(tenant, async () => {
      const where = new Where(tenant).filter(filter);
      const [row] = await this.sql.query<{ count: string }>(`SELECT count(*) AS count FROM call WHERE ${where.toString()}`, where.values);
      return Number(row!.count);
    });
  }

  async eventsOfCalls(tenant: Viewer, callIds: readonly string[], page: { first: number; afterSequence: number }): Promise<Map<string, CallEvent[]>> {
    // Only the events of calls the caller may see (an access token's filter).
    const visible = tenant.scope ? (await this.findByIds(tenant, callIds)).map((call) => call.id) : callIds;
    const rows = await this.sql.query<CallEvent>(
      `SELECT ${EVENT_COLUMNS} FROM (
         SELECT e.*, row_number() OVER (PARTITION BY call_id ORDER BY sequence) AS rank
           FROM call_event e
          WHERE app_id = $1 AND mode = $2 AND call_id = ANY($3::text[]) AND sequence > $4
       ) ranked
       WHERE rank <= $5
       ORDER BY call_id, sequence`,
      [tenant.appId, tenant.mode, visible, page.afterSequence, page.first + 1],
    );
    const byCall = new Map<string, CallEvent[]>(callIds.map((id) => [id, []]));
    for (const row of rows) byCall.get(row.callId)?.push(row);
    return byCall;
  }
}
