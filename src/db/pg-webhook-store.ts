import type { Tenant } from '../domain/call.js';
import { WebhookDeliveryStatus, type DeliveryFilter, type WebhookAttempt, type WebhookDelivery, type WebhookEndpoint, type WebhookStore } from '../domain/webhook-endpoints.js';
import { lit } from './sql-literals.js';
import { Where } from './pg-call-store.js';
import type { Sql } from './sql.js';
import { SecretBox } from './secret-box.js';

const ENDPOINT_COLUMNS = `id, url, events, disabled_at AS "disabledAt", disabled_reason AS "disabledReason", failing_since AS "failingSince",
  created_at AS "createdAt", updated_at AS "updatedAt"`;
const DELIVERY_COLUMNS = `id, endpoint_id AS "endpointId", event_id AS "eventId", call_id AS "callId", event_type AS "eventType", status, attempts,
  next_attempt_at AS "nextAttemptAt", created_at AS "createdAt", delivered_at AS "deliveredAt", payload`;

/** Endpoints and deliveries as the API shows them; every statement is scoped to the tenant. */
export class PgWebhookStore implements WebhookStore {
  constructor(
    private readonly sql: Sql,
    /** Seals signing secrets at rest (SECRETS_KEY); they are opened only by the delivery worker. */
    private readonly secrets: SecretBox = new SecretBox([]),
  ) {}

  /**
   * Inserts the endpoint unless the tenant already has `max`: the count and the insert run under
   * a transaction-scoped advisory lock of the tenant, so concurrent creates cannot pass the limit
   * together (a plain read-then-write let them). null: the limit is reached.
   */
  async insertEndpoint(tenant: Tenant, endpoint: { id: string; url: string; events: string[]; secret: string }, max: number): Promise<WebhookEndpoint | null> {
    const client = await this.sql.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`webhook_endpoint:${tenant.appId}:${tenant.mode}`]);
      const { rows: counted } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoint WHERE app_id = $1 AND mode = $2', [tenant.appId, tenant.mode]);
      if (counted[0]!.n >= max) {
        await client.query('ROLLBACK');
        return null;
      }
      const { rows } = await client.query<WebhookEndpoint>(
        `INSERT INTO webhook_endpoint (id, app_id, mode, url, events, secret) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
        [endpoint.id, tenant.appId, tenant.mode, endpoint.url, endpoint.events, this.secrets.seal(endpoint.secret)],
      );
      await client.query('COMMIT');
      return rows[0]!;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async updateEndpoint(tenant: Tenant, id: string, change: { url?: string; events?: string[]; enable?: boolean }): Promise<WebhookEndpoint | null> {
    const [row] = await this.sql.query<WebhookEndpoint>(
      `UPDATE webhook_endpoint SET url = COALESCE($4, url), events = COALESCE($5, events),
              disabled_at = CASE WHEN $6::boolean IS TRUE THEN NULL WHEN $6::boolean IS FALSE THEN COALESCE(disabled_at, now()) ELSE disabled_at END,
              disabled_reason = CASE WHEN $6::boolean IS TRUE THEN NULL WHEN $6::boolean IS FALSE THEN COALESCE(disabled_reason, 'disabled by the application') ELSE disabled_reason END,
              failing_since = CASE WHEN $6::boolean IS TRUE THEN NULL ELSE failing_since END,
              updated_at = now()
        WHERE app_id = $1 AND mode = $2 AND id = $3 RETURNING ${ENDPOINT_COLUMNS}`,
      [tenant.appId, tenant.mode, id, change.url ?? null, change.events ?? null, change.enable ?? null],
    );
    return row ?? null;
  }

  async deleteEndpoint(tenant: Tenant, id: string): Promise<boolean> {
    const rows = await this.sql.query(`DELETE FROM webhook_endpoint WHERE app_id = $1 AND mode = $2 AND id = $3 RETURNING id`, [tenant.appId, tenant.mode, id]);
    return rows.length > 0;
  }

  async rotateSecret(tenant: Tenant, id: string, secret: string, previousValidMs: number): Promise<WebhookEndpoint | null> {
    const [row] = await this.sql.query<WebhookEndpoint>(
      `UPDATE webhook_endpoint SET previous_secret = secret, secret = $4,
              previous_secret_expires_at = now() + make_interval(secs => $5::double precision / 1000), updated_at = now()
        WHERE app_id = $1 AND mode = $2 AND id = $3 RETURNING ${ENDPOINT_COLUMNS}`,
      [tenant.appId, tenant.mode, id, this.secrets.seal(secret), previousValidMs],
    );
    return row ?? null;
  }

  endpoints(tenant: Tenant): Promise<WebhookEndpoint[]> {
    return this.sql.query<WebhookEndpoint>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE app_id = $1 AND mode = $2 ORDER BY created_at, id`, [tenant.appId, tenant.mode]);
  }

  deliveries(tenant: Tenant, filter: DeliveryFilter, limit: number, after: { createdAt: Date; id: string } | null): Promise<WebhookDelivery[]> {
    const where = new Where(tenant);
    if (filter.endpointId) where.add(`endpoint_id = ${where.param(filter.endpointId)}`);
    if (filter.callId) where.add(`call_id = ${where.param(filter.callId)}`);
    if (filter.status?.length) where.add(`status = ANY(${where.param(filter.status)}::text[])`);
    if (after) where.add(`(created_at, id) < (${where.param(after.createdAt)}::timestamptz, ${where.param(after.id)})`);
    return this.sql.query<WebhookDelivery>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE ${where.toString()} ORDER BY created_at DESC, id DESC LIMIT ${where.param(limit)}`,
      where.values,
    );
  }

  async attemptsOf(tenant: Tenant, deliveryIds: readonly string[]): Promise<Map<string, WebhookAttempt[]>> {
    const rows = await this.sql.query<WebhookAttempt & { deliveryId: string }>(
      `SELECT a.delivery_id AS "deliveryId", a.attempted_at AS "attemptedAt", a.status_code AS "statusCode", a.latency_ms AS "latencyMs", a.error, a.response_body AS "responseBody"
         FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id
        WHERE d.app_id = $1 AND d.mode = $2 AND a.delivery_id = ANY($3::text[]) ORDER BY a.id`,
      [tenant.appId, tenant.mode, deliveryIds],
    );
    const byDelivery = new Map<string, WebhookAttempt[]>(deliveryIds.map((id) => [id, []]));
    for (const { deliveryId, ...attempt } of rows) byDelivery.get(deliveryId)?.push(attempt);
    return byDelivery;
  }

  async redeliver(tenant: Tenant, id: string): Promise<WebhookDelivery | null> {
    const [row] = await this.sql.query<WebhookDelivery>(
      `UPDATE webhook_delivery SET status = ${lit(WebhookDeliveryStatus.PENDING)}, next_attempt_at = now(), locked_until = NULL
        WHERE app_id = $1 AND mode = $2 AND id = $3 RETURNING ${DELIVERY_COLUMNS}`,
      [tenant.appId, tenant.mode, id],
    );
    return row ?? null;
  }
}
