import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { ApplicationEntity } from './application.entity.js';

/** A customer's HTTPS endpoint for signed call events (db/pg-webhook-store.ts). */
@Entity({ tableName: 'webhook_endpoint' })
// The application's endpoints (fan-out reads them per event); a call's own endpoint is found by its call.
@Index({
  name: 'webhook_endpoint_tenant_idx',
  expression: 'create index "webhook_endpoint_tenant_idx" on "webhook_endpoint" ("app_id", "mode") where "call_id" is null',
})
@Index({
  name: 'webhook_endpoint_call_idx',
  expression: 'create index "webhook_endpoint_call_idx" on "webhook_endpoint" ("call_id") where "call_id" is not null',
})
export class WebhookEndpointEntity {
  [OptionalProps]?:
    'callId' | 'events' | 'previousSecret' | 'previousSecretExpiresAt' | 'disabledAt' | 'disabledReason' | 'failingSince' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

  @Property({ type: 'string', length: 2048 })
  url!: string;

  /**
   * Set: the endpoint of one call (createCall's statusCallbackUrl), signed with the tenant's
   * status-callback secret, never listed. Not a foreign key: it is written just before its call
   * (so no event of the call can precede it) and removed if the call is not created.
   */
  @Property({ type: 'string', length: 40, nullable: true })
  callId: string | null = null;

  /** The platform's event names it wants; empty: every event. */
  @Property({ type: 'string[]', columnType: 'text[]', defaultRaw: `'{}'` })
  events: string[] = [];

  /** The signing secret, sealed (db/secret-box.ts) when WEBHOOK_SECRET_KEY is set. */
  @Property({ type: 'string', length: 100 })
  secret!: string;

  /** After a rotation, the old secret still signs until previousSecretExpiresAt. */
  @Property({ type: 'string', length: 100, nullable: true })
  previousSecret: string | null = null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  previousSecretExpiresAt: Date | null = null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  disabledAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  disabledReason: string | null = null;

  /** When its deliveries started failing without a success since. */
  @Property({ type: 'datetime', length: 3, nullable: true })
  failingSince: Date | null = null;

  /**
   * The database's clock, not this process's: an endpoint receives the events that occur from
   * then on, and events are stamped by the database (db/pg-webhook-queue.ts).
   */
  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  updatedAt!: Date;
}
