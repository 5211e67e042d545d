import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';

/** One HTTP attempt of a delivery: what the endpoint answered, and how fast. */
@Entity({ tableName: 'webhook_attempt' })
@Index({ name: 'webhook_attempt_delivery_idx', properties: ['delivery', 'id'] })
// Retention by time (see CallEventEntity).
@Index({ name: 'webhook_attempt_attempted_brin', properties: ['attemptedAt'], type: 'brin' })
export class WebhookAttemptEntity {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => WebhookDeliveryEntity, {
    fieldName: 'delivery_id',
    deleteRule: 'cascade',
    updateRule: 'no action',
    foreignKeyName: 'webhook_attempt_delivery_id_fkey',
  })
  delivery!: WebhookDeliveryEntity;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  attemptedAt: Date = new Date();

  /** null: no answer (timeout, refused connection). */
  @Property({ type: 'integer', nullable: true })
  statusCode: number | null = null;

  @Property({ type: 'integer' })
  latencyMs!: number;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  /** The first 4 KB of the answer's body. */
  @Property({ type: 'text', nullable: true })
  responseBody: string | null = null;
}
