import { raw, type EntityManager } from '@mikro-orm/postgresql';
import type { Tenant } from '../domain/call.js';
import {
  WebhookDeliveryStatus,
  type DeliveryFilter,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookStore,
} from '../domain/webhook-endpoints.js';
import { lit } from './sql-literals.js';
import { Where } from './where.js';
import type { Sql } from './sql.js';
import { SecretBox } from './secret-box.js';
import { StatusCallbackSecretEntity } from './entities/status-callback-secret.entity.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';

const DELIVERY_COLUMNS = `id, endpoint_id AS "endpointId", event_id AS "eventId", call_id AS "callId", event_type AS "eventType", status, attempts,
  next_attempt_at AS "nextAttemptAt", created_at AS "createdAt", delivered_at AS "deliveredAt", payload`;

/**
 * Endpoints and deliveries as the API shows them; every statement is scoped to the tenant.
 * Endpoint management is rare (a few writes per application, ever): it goes through MikroORM's
 * entity manager, one fork per call. Deliveries and attempts are read in pages of up to 100 with
 * their attempts batched: plain SQL, as on the other hot paths.
 */
export class PgWebhookStore implements WebhookStore {
  constructor(
    private readonly sql: Sql,
    private readonly rootEm: EntityManager,
    /** Seals signing secrets at rest (SECRETS_KEY); they are opened only by the delivery worker. */
    private readonly secrets: SecretBox = new SecretBox([]),
  ) {}

  /**
   * Inserts the endpoint unless the tenant already has `max`: the count and the insert run under
   * a transaction-scoped advisory lock of the tenant, so concurrent creates cannot pass the limit
   * together (a plain read-then-write let them). null: the limit is reached.
   */
  async insertEndpoint(tenant: Tenant, endpoint: { id: string; url: string; events: string[]; secret: string }, max: number): Promise<WebhookEndpoint | null> {
    return this.rootEm.fork().transactional(async (em) => {
      await em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`webhook_endpoint:${tenant.appId}:${tenant.mode}`]);
      if ((await em.count(WebhookEndpointEntity, { app: tenant.appId, mode: tenant.mode, callId: null })) >= max) return null;
      const row = em.create(WebhookEndpointEntity, {
        id: endpoint.id,
        app: tenant.appId,
        mode: tenant.mode,
        url: endpoint.url,
        events: endpoint.events,
        secret: this.secrets.seal(endpoint.secret),
      });
      await em.flush();
      return shown(row);
    });
  }

  async updateEndpoint(tenant: Tenant, id: string, change: { url?: string; events?: string[]; enable?: boolean }): Promise<WebhookEndpoint | null> {
    const em = this.rootEm.fork();
    const row = await em.findOne(WebhookEndpointEntity, { id, app: tenant.appId, mode: tenant.mode, callId: null });
    if (!row) return null;
    if (change.url !== undefined) row.url = change.url;
    if (change.events !== undefined) row.events = change.events;
    if (change.enable === true) {
      row.disabledAt = null;
      row.disabledReason = null;
      row.failingSince = null;
    } else if (change.enable === false) {
      row.disabledAt ??= NOW();
      row.disabledReason ??= 'disabled by the application';
    }
    row.updatedAt = NOW();
    await em.flush();
    return shown(row);
  }

  async deleteEndpoint(tenant: Tenant, id: string): Promise<boolean> {
    // Its deliveries and their attempts go with it (ON DELETE CASCADE).
    return (await this.rootEm.fork().nativeDelete(WebhookEndpointEntity, { id, app: tenant.appId, mode: tenant.mode, callId: null })) > 0;
  }

  async rotateSecret(tenant: Tenant, id: string, secret: string, previousValidMs: number): Promise<WebhookEndpoint | null> {
    const em = this.rootEm.fork();
    const row = await em.findOne(WebhookEndpointEntity, { id, app: tenant.appId, mode: tenant.mode, callId: null });
    if (!row) return null;
    row.previousSecret = row.secret;
    row.secret = this.secrets.seal(secret);
    // The delivery worker compares it with the database's clock: set by the same clock.
    row.previousSecretExpiresAt = raw('now() + make_interval(secs => ?::double precision / 1000)', [previousValidMs]);
    row.updatedAt = NOW();
    await em.flush();
    return shown(row);
  }

  async endpoints(tenant: Tenant): Promise<WebhookEndpoint[]> {
    const rows = await this.rootEm
      .fork()
      .find(WebhookEndpointEntity, { app: tenant.appId, mode: tenant.mode, callId: null }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return rows.map(shown);
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

  async rotateStatusCallbackSecret(tenant: Tenant, secret: string, previousValidMs: number): Promise<void> {
    // One statement: a first secret, or a new one with the old kept as previous (signing too until it expires).
    await this.sql.query(
      `INSERT INTO status_callback_secret (app_id, mode, secret) VALUES ($1, $2, $3)
       ON CONFLICT (app_id, mode) DO UPDATE SET previous_secret = status_callback_secret.secret, secret = excluded.secret,
              previous_secret_expires_at = now() + make_interval(secs => $4::double precision / 1000), updated_at = now()`,
      [tenant.appId, tenant.mode, this.secrets.seal(secret), previousValidMs],
    );
  }

  async hasStatusCallbackSecret(tenant: Tenant): Promise<boolean> {
    return (await this.rootEm.fork().count(StatusCallbackSecretEntity, { app: tenant.appId, mode: tenant.mode })) > 0;
  }

  async insertCallEndpoint(tenant: Tenant, endpoint: { id: string; url: string; callId: string }): Promise<void> {
    // Its secret is the tenant's status-callback secret, read when a delivery is claimed (pg-webhook-queue.ts).
    await this.sql.query(`INSERT INTO webhook_endpoint (id, app_id, mode, url, secret, call_id) VALUES ($1, $2, $3, $4, '', $5)`, [
      endpoint.id,
      tenant.appId,
      tenant.mode,
      endpoint.url,
      endpoint.callId,
    ]);
  }

  async deleteCallEndpoint(tenant: Tenant, id: string): Promise<void> {
    await this.sql.query(`DELETE FROM webhook_endpoint WHERE id = $1 AND app_id = $2 AND mode = $3 AND call_id IS NOT NULL`, [id, tenant.appId, tenant.mode]);
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

/** The database's clock, as every other time of these tables (MikroORM reads the value back after the flush). */
const NOW = () => raw('now()');

/** What the API shows of an endpoint: never its secrets. */
function shown(row: WebhookEndpointEntity): WebhookEndpoint {
  const { id, url, events, disabledAt, disabledReason, failingSince, createdAt, updatedAt } = row;
  return { id, url, events, disabledAt, disabledReason, failingSince, createdAt, updatedAt };
}
