import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { WebhookDeliveryStatus } from '../../domain/webhook-endpoints.js';
import { lit } from '../sql-literals.js';
import { ApplicationEntity } from './application.entity.js';
import { WebhookEndpointEntity } from './webhook-endpoint.entity.js';

/**
 * One event for one endpoint. The queue is PostgreSQL itself (db/pg-webhook-queue.ts): rows are
 * claimed with FOR UPDATE SKIP LOCKED and a lease, so several gateway processes share the work
 * and a process that dies mid-delivery loses nothing.
 */
@Entity({ tableName: 'webhook_delivery' })
// Each event becomes each endpoint's delivery once.
@Unique({ name: 'webhook_delivery_event_unique', properties: ['endpoint', 'eventId'] })
@Index({
  name: 'webhook_delivery_due_idx',
  expression: `create index "webhook_delivery_due_idx" on "webhook_delivery" ("next_attempt_at") where "status" = ${lit(WebhookDeliveryStatus.PENDING)}`,
})
// Deliveries under lease: the claim caps how many one endpoint, and one application, hold at once.
@Index({
  name: 'webhook_delivery_leased_idx',
  expression: `create index "webhook_delivery_leased_idx" on "webhook_delivery" ("app_id", "endpoint_id", "locked_until") where "status" = ${lit(WebhookDeliveryStatus.PENDING)} and "locked_until" is not null`,
})
@Index({ name: 'webhook_delivery_tenant_idx', properties: ['app', 'mode', 'createdAt', 'id'] })
// Retention by time (see CallEventEntity).
@Index({ name: 'webhook_delivery_created_brin', properties: ['createdAt'], type: 'brin' })
export class WebhookDeliveryEntity {
  /** Also the `webhook-id` header. */
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => WebhookEndpointEntity, {
    fieldName: 'endpoint_id',
    deleteRule: 'cascade',
    updateRule: 'no action',
    foreignKeyName: 'webhook_delivery_endpoint_id_fkey',
  })
  endpoint!: WebhookEndpointEntity;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

  /** No foreign key: retention removes old events before the deliveries that name them. */
  @Property({ type: 'string', length: 40 })
  eventId!: string;

  @Property({ type: 'string', length: 40 })
  callId!: string;

  @Property({ type: 'string', length: 40 })
  eventType!: string;

  /** The signed body, fixed when the delivery is created: every attempt sends the same bytes. */
  @Property({ type: 'json', columnType: 'jsonb' })
  payload!: Record<string, unknown>;

  @Enum({ items: () => WebhookDeliveryStatus, type: 'string', columnType: 'varchar(16)' })
  status!: WebhookDeliveryStatus;

  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  nextAttemptAt: Date = new Date();

  /** The lease of the process delivering it; null when nobody is. */
  @Property({ type: 'datetime', length: 3, nullable: true })
  lockedUntil: Date | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', length: 3, nullable: true })
  deliveredAt: Date | null = null;
}
