import { CallEventKind, type Mode } from '../domain/call.js';
import { DTMF_WEBHOOK_EVENT, WEBHOOK_EVENT_OF, WebhookDeliveryStatus } from '../domain/webhook-endpoints.js';
import type { Sql } from './sql.js';
import { SecretBox } from './secret-box.js';
import { inList, lit } from './sql-literals.js';
import { TERMINAL } from '../domain/call-status-rules.js';

const PENDING = lit(WebhookDeliveryStatus.PENDING);
const DELIVERED = lit(WebhookDeliveryStatus.DELIVERED);
/** The platform's event name of each status (calls.answered for in_progress …), from the domain. */
const EVENT_TYPE = `CASE WHEN e.type = ${lit(CallEventKind.DTMF_RECEIVED)} THEN ${lit(DTMF_WEBHOOK_EVENT)} ELSE CASE e.status ${Object.entries(WEBHOOK_EVENT_OF)
  .map(([status, event]) => `WHEN ${lit(status)} THEN ${lit(event)}`)
  .join(' ')} END END`;

/** A delivery claimed for one attempt, with what is needed to sign and send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  mode: Mode;
  attempts: number;
  payload: Record<string, unknown>;
  url: string;
  secret: string;
  previousSecret: string | null;
  /** The lease's end, as PostgreSQL printed it: the token that proves the attempt still owns the delivery. */
  lease: string;
  /** The W3C traceparent the delivery's call was created under (tracing on), else null. */
  traceParent: string | null;
  /** Why its signing secret could not be opened here (then it is not sent from this process). */
  secretError?: string;
}

export interface AttemptOutcome {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

/**
 * The webhook queue, in PostgreSQL. Fan-out is one statement: it locks the cursor row, reads the
 * next numbered events of the log, inserts one delivery per (event, subscribed endpoint) and moves
 * the cursor, atomically; the unique (endpoint, event) index makes a repeat harmless. Workers claim
 * due deliveries with FOR UPDATE SKIP LOCKED and a lease: a process killed mid-attempt leaves a
 * lease that runs out, and another process (or itself, restarted) retries the delivery.
 * Why not pg-boss or graphile-worker: the queue needs exactly this (the same database, the event
 * log's positions, one row per delivery that the API also lists), and one statement each way.
 */
const FAN_OUT = `
WITH cursor AS (
  SELECT position FROM webhook_cursor WHERE name = 'deliveries' FOR UPDATE
), batch AS (
  SELECT e.* FROM call_event e, cursor WHERE e.position > cursor.position ORDER BY e.position LIMIT $1
), inserted AS (
  INSERT INTO webhook_delivery (id, endpoint_id, app_id, mode, event_id, call_id, event_type, payload, status)
  SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), w.id, e.app_id, e.mode, e.id, e.call_id, t.type,
         jsonb_build_object(
           'event', t.type,
           'eventId', e.id,
           'timestamp', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object(
             -- The call as it was at the event, though the fan-out may run after it moved on: a
             -- calls.ringing delivered late never carries the answer or the end.
             'call', jsonb_build_object(
               'id', c.id, 'appId', c.app_id, 'direction', c.direction, 'status', e.status,
               'fromAddress', c.from_address, 'toAddress', c.to_address,
               'fromChannel', c.from_channel, 'toChannel', c.to_channel,
               'duration', CASE WHEN ended.at_event THEN c.duration END,
               'endReason', CASE WHEN ended.at_event THEN c.end_reason END,
               'metadata', c.metadata, 'livekitRoomName', c.livekit_room_name,
               'startedAt', to_char(CASE WHEN c.started_at <= e.occurred_at THEN c.started_at END AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'answeredAt', to_char(CASE WHEN c.answered_at <= e.occurred_at THEN c.answered_at END AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'endedAt', to_char(CASE WHEN ended.at_event THEN c.ended_at END AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'createdAt', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
             'app', jsonb_build_object('id', c.app_id))
             || CASE WHEN e.digits IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('dtmf', jsonb_build_object('digits', e.digits)) END),
         ${PENDING}
    FROM batch e
    JOIN call c ON c.id = e.call_id
    CROSS JOIN LATERAL (SELECT ${EVENT_TYPE} AS type) t
    CROSS JOIN LATERAL (SELECT e.status IN ${inList(TERMINAL)} AS at_event) ended
    -- The application's endpoints (subscribed to the event), and the call's own (its
    -- statusCallbackUrl: every event): two index lookups, so calls with callbacks of their own
    -- never lengthen the application's list.
    CROSS JOIN LATERAL (
      SELECT a.id FROM webhook_endpoint a
       WHERE a.app_id = e.app_id AND a.mode = e.mode AND a.call_id IS NULL AND a.disabled_at IS NULL
         AND (cardinality(a.events) = 0 OR t.type = ANY(a.events))
         -- An endpoint receives the events that happen once it exists.
         AND e.occurred_at >= a.created_at
      UNION ALL
      SELECT o.id FROM webhook_endpoint o WHERE o.call_id = e.call_id AND o.disabled_at IS NULL
    ) w
   WHERE e.type IN (${lit(CallEventKind.STATUS_CHANGED)}, ${lit(CallEventKind.DTMF_RECEIVED)})
  ON CONFLICT (endpoint_id, event_id) DO NOTHING
  RETURNING 1
), moved AS (
  UPDATE webhook_cursor SET position = (SELECT max(position) FROM batch) WHERE name = 'deliveries' AND EXISTS (SELECT 1 FROM batch)
)
SELECT (SELECT count(*) FROM batch)::int AS events, (SELECT count(*) FROM inserted)::int AS deliveries`;

/**
 * Claims due deliveries, at most `perEndpoint` under lease per endpoint and `perApplication` per
 * application at once (across every process), so neither one slow endpoint nor one tenant with
 * many of them can hold all the workers. Endpoints and applications already at their cap are
 * skipped before the candidate window is read, so one backlog never fills it ahead of the others.
 * The lease (`locked_until`) is returned as the attempt's token: its result is recorded only while
 * that lease still holds.
 */
const CLAIM = `
WITH leased AS (
  SELECT app_id, endpoint_id FROM webhook_delivery
   WHERE status = ${PENDING} AND locked_until IS NOT NULL AND locked_until >= now()
), full_endpoints AS (
  SELECT endpoint_id FROM leased GROUP BY endpoint_id HAVING count(*) >= $3
), full_apps AS (
  SELECT app_id FROM leased GROUP BY app_id HAVING count(*) >= $4
), candidates AS (
  SELECT d.id, d.app_id, d.endpoint_id, d.next_attempt_at FROM webhook_delivery d
   WHERE d.status = ${PENDING} AND d.next_attempt_at <= now() AND (d.locked_until IS NULL OR d.locked_until < now())
     AND d.endpoint_id NOT IN (SELECT endpoint_id FROM full_endpoints)
     AND d.app_id NOT IN (SELECT app_id FROM full_apps)
     AND EXISTS (SELECT 1 FROM webhook_endpoint w WHERE w.id = d.endpoint_id AND w.disabled_at IS NULL)
   ORDER BY d.next_attempt_at, d.id LIMIT $1 * 8
), per_endpoint AS (
  SELECT c.id, c.app_id, c.next_attempt_at,
         row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id)
           + (SELECT count(*) FROM leased l WHERE l.endpoint_id = c.endpoint_id) AS endpoint_slot
    FROM candidates c
), ranked AS (
  -- The application's free slots go to deliveries its endpoints' caps let through, oldest first.
  -- (Ranked over all candidates at once, one fan-out's deliveries, which share their
  -- next_attempt_at, could be ordered one way per endpoint and another per application: the
  -- first slots of the application then all went to deliveries over their endpoint's cap, and
  -- nothing was claimed again.)
  SELECT e.id, e.next_attempt_at,
         row_number() OVER (PARTITION BY e.app_id ORDER BY e.next_attempt_at, e.id)
           + (SELECT count(*) FROM leased l WHERE l.app_id = e.app_id) AS app_slot
    FROM per_endpoint e WHERE e.endpoint_slot <= $3
), due AS (
  SELECT d.id FROM webhook_delivery d JOIN ranked r ON r.id = d.id
   WHERE r.app_slot <= $4 AND d.status = ${PENDING} AND (d.locked_until IS NULL OR d.locked_until < now())
   ORDER BY r.next_attempt_at, r.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED
), claimed AS (
  UPDATE webhook_delivery d SET locked_until = now() + make_interval(secs => $2::double precision / 1000), attempts = d.attempts + 1
    FROM due WHERE d.id = due.id RETURNING d.id, d.endpoint_id, d.mode, d.attempts, d.payload, d.locked_until, d.call_id
)
SELECT claimed.id, claimed.endpoint_id AS "endpointId", claimed.mode, claimed.attempts, claimed.payload, w.url,
       COALESCE(s.secret, w.secret) AS secret,
       claimed.locked_until::text AS lease,
       c.trace_parent AS "traceParent",
       CASE WHEN w.call_id IS NULL THEN CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END
            ELSE CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END END AS "previousSecret"
  FROM claimed JOIN webhook_endpoint w ON w.id = claimed.endpoint_id
  -- A call's own endpoint signs with the tenant's status-callback secret.
  LEFT JOIN status_callback_secret s ON w.call_id IS NOT NULL AND s.app_id = w.app_id AND s.mode = w.mode
  -- The trace of the request that created the call: its deliveries join it (traceparent).
  LEFT JOIN call c ON c.id = claimed.call_id`;

/**
 * Records an attempt and its consequence in one statement: delivered; failed for good (410,
 * or no retry left); or pending again in $7 ms. $6 is the delivery's new status. An endpoint
 * failing since `disableAfterMs` ($8) ago, or answering 410 Gone, is disabled ($10 says why).
 */
const RECORD = `
WITH delivery AS (
  UPDATE webhook_delivery SET locked_until = NULL,
         status = $6::text,
         delivered_at = CASE WHEN $6::text = ${DELIVERED} THEN now() ELSE delivered_at END,
         next_attempt_at = CASE WHEN $6::text = ${PENDING} THEN now() + make_interval(secs => $7::double precision / 1000) ELSE next_attempt_at END
   -- Only while this attempt's lease holds: after it ran out, another attempt may own the delivery.
   WHERE id = $1 AND locked_until = $9::timestamptz AND locked_until > now() RETURNING id, endpoint_id
), attempt AS (
  INSERT INTO webhook_attempt (delivery_id, status_code, latency_ms, error, response_body) SELECT id, $2, $3, $4, $5 FROM delivery
)
UPDATE webhook_endpoint w SET
       failing_since = CASE WHEN $6::text = ${DELIVERED} THEN NULL ELSE COALESCE(w.failing_since, now()) END,
       disabled_at = CASE WHEN $2::int = 410 OR ($6::text <> ${DELIVERED} AND w.failing_since < now() - make_interval(secs => $8::double precision / 1000))
                          THEN COALESCE(w.disabled_at, now()) ELSE w.disabled_at END,
       disabled_reason = CASE WHEN $2::int = 410 THEN COALESCE(w.disabled_reason, 'the endpoint answered 410 Gone')
                              WHEN $6::text <> ${DELIVERED} AND w.failing_since < now() - make_interval(secs => $8::double precision / 1000)
                              THEN COALESCE(w.disabled_reason, $10::text) ELSE w.disabled_reason END
  FROM delivery WHERE w.id = delivery.endpoint_id
RETURNING 1`;

/** Gives a lease back untried (the process is stopping): another worker may take it at once. */
const RELEASE = `
UPDATE webhook_delivery SET locked_until = NULL, attempts = attempts - 1
 WHERE id = $1 AND locked_until = $2::timestamptz AND status = ${PENDING}`;

export class PgWebhookQueue {
  constructor(
    private readonly sql: Sql,
    /** Opens the signing secrets sealed at rest (SECRETS_KEY). */
    private readonly secrets: SecretBox = new SecretBox([]),
  ) {}

  /** Fans out the next events of the log; returns how many events were read. */
  async fanOut(batch: number): Promise<{ events: number; deliveries: number }> {
    const [row] = await this.sql.query<{ events: number; deliveries: number }>(FAN_OUT, [batch]);
    return row!;
  }

  async claim(limit: number, leaseMs: number, caps: { perEndpoint: number; perApplication: number }): Promise<ClaimedDelivery[]> {
    const claimed = await this.sql.query<ClaimedDelivery>(CLAIM, [limit, leaseMs, caps.perEndpoint, caps.perApplication]);
    return claimed.map((delivery) => {
      try {
        return {
          ...delivery,
          secret: this.secrets.open(delivery.secret),
          previousSecret: delivery.previousSecret && this.secrets.open(delivery.previousSecret),
        };
      } catch (error) {
        // Sealed with a key this process does not have (a rolling change of SECRETS_KEY): its
        // lease runs out and a process that has the key takes it.
        return { ...delivery, secret: '', previousSecret: null, secretError: (error as Error).message };
      }
    });
  }

  /** false: the lease had run out, nothing was recorded (the delivery is another attempt's now). */
  async record(
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    result: 'delivered' | 'retry' | 'failed',
    retryInMs: number,
    disableAfterMs: number,
  ): Promise<boolean> {
    const status = result === 'delivered' ? WebhookDeliveryStatus.DELIVERED : result === 'retry' ? WebhookDeliveryStatus.PENDING : WebhookDeliveryStatus.FAILED;
    const rows = await this.sql.query(RECORD, [
      delivery.id,
      outcome.statusCode,
      outcome.latencyMs,
      outcome.error,
      outcome.responseBody,
      status,
      retryInMs,
      disableAfterMs,
      delivery.lease,
      `every delivery failed for ${duration(disableAfterMs)}`,
    ]);
    return rows.length > 0;
  }

  async release(delivery: ClaimedDelivery): Promise<void> {
    await this.sql.query(RELEASE, [delivery.id, delivery.lease]);
  }

  /** Whether any endpoint is enabled (all applications): without one, fan-out has nothing to do. */
  async anyEndpoint(): Promise<boolean> {
    const [row] = await this.sql.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM webhook_endpoint WHERE disabled_at IS NULL) AS any`);
    return row!.any;
  }

  /** Deliveries waiting (for /metrics and the bench), counted up to 100,000 (a bounded index scan). */
  async depth(): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM webhook_delivery WHERE status = ${PENDING} LIMIT 100000) pending`,
    );
    return row!.n;
  }
}

/** 432000000 → "5 days", 90000 → "90 seconds": the largest unit that divides it. */
function duration(ms: number): string {
  for (const [unit, size] of [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}
