import { SETTLED_COMMAND_STATUSES } from '../domain/command-rules.js';
import { SETTLED_DELIVERY_STATUSES, WebhookDeliveryStatus } from '../domain/webhook-endpoints.js';
import { inList, lit } from './sql-literals.js';
import type { Sql } from './sql.js';

/** How long each kind of row is kept (days); 0 keeps it for ever. */
export interface RetentionPolicy {
  /** A call's timeline, except its last event (its final status stays readable, callStatus(callId) still answers). */
  eventsDays: number;
  /** Commands that were applied or failed. */
  commandsDays: number;
  /** Webhook deliveries that ended (delivered or failed), with their attempts. */
  webhookDeliveriesDays: number;
  /** The response bodies stored with webhook attempts (the attempts themselves stay). */
  webhookResponseBodiesDays: number;
}

const DAY = `make_interval(days => $1::int)`;

/**
 * Deletes what is past its retention, in batches (RETENTION_BATCH, 5,000 rows) so no statement
 * holds locks for long, and a bounded number of batches of each kind per run
 * (RETENTION_MAX_BATCHES, 20): a run's work is bounded, the next run goes on. The scans ride BRIN indexes on the time
 * columns (Migration20261202010000Retention): a few pages each, and next to nothing per insert.
 */
export class Retention {
  constructor(
    private readonly sql: Sql,
    private readonly policy: RetentionPolicy,
    private readonly limits: { batch: number; maxBatches: number },
  ) {}

  /** Rows deleted (or bodies cleared) per kind in this run. */
  async run(): Promise<Record<keyof RetentionPolicy | 'rateLimitCounters', number>> {
    const p = this.policy;
    return {
      // Rate-limit counters (one per key and per access token) whose window ended over a day ago:
      // a token's row would otherwise stay for ever (calls_gateway_lease_points starts a new window
      // in the same row, so a live key's row is never one of them).
      rateLimitCounters: await this.batches(
        1,
        `
        DELETE FROM rate_limit WHERE key IN (
          SELECT key FROM rate_limit WHERE expire < (extract(epoch from now() - ${DAY}) * 1000)::bigint LIMIT $2)`,
      ),
      eventsDays: await this.batches(
        p.eventsDays,
        `
        DELETE FROM call_event WHERE id IN (
          SELECT e.id FROM call_event e JOIN call c ON c.id = e.call_id
           WHERE e.occurred_at < now() - ${DAY} AND e.sequence < c.last_sequence AND e.position IS NOT NULL
           LIMIT $2)`,
      ),
      commandsDays: await this.batches(
        p.commandsDays,
        `
        DELETE FROM call_command WHERE id IN (
          SELECT id FROM call_command WHERE created_at < now() - ${DAY} AND status IN ${inList(SETTLED_COMMAND_STATUSES)} LIMIT $2)`,
      ),
      webhookDeliveriesDays:
        (await this.batches(
          p.webhookDeliveriesDays,
          `
        DELETE FROM webhook_delivery WHERE id IN (
          SELECT id FROM webhook_delivery WHERE created_at < now() - ${DAY} AND status IN ${inList(SETTLED_DELIVERY_STATUSES)} LIMIT $2)`,
        )) +
        // A call's own endpoint (statusCallbackUrl), once the call has ended (or was never created)
        // and nothing waits to be delivered there: with its deliveries (ON DELETE CASCADE).
        (await this.batches(
          p.webhookDeliveriesDays,
          `
        DELETE FROM webhook_endpoint WHERE id IN (
          SELECT w.id FROM webhook_endpoint w
           WHERE w.call_id IS NOT NULL AND w.created_at < now() - ${DAY}
             AND NOT EXISTS (SELECT 1 FROM call c WHERE c.id = w.call_id AND c.ended_at IS NULL)
             AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.endpoint_id = w.id AND d.status = ${lit(WebhookDeliveryStatus.PENDING)})
           LIMIT $2)`,
        )),
      webhookResponseBodiesDays: await this.batches(
        p.webhookResponseBodiesDays,
        `
        UPDATE webhook_attempt SET response_body = NULL WHERE id IN (
          SELECT id FROM webhook_attempt WHERE attempted_at < now() - ${DAY} AND response_body IS NOT NULL LIMIT $2)`,
      ),
    };
  }

  private async batches(days: number, statement: string): Promise<number> {
    if (days <= 0) return 0;
    let total = 0;
    const { batch: size, maxBatches } = this.limits;
    for (let batch = 0; batch < maxBatches; batch++) {
      const count = await this.sql.rowCount(statement, [days, size]);
      total += count;
      if (count < size) break;
    }
    return total;
  }
}
