import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { CallDirection, CallStatus, Channel } from '../../domain/call.js';
import { ApplicationEntity } from './application.entity.js';

/**
 * A call. The hot paths read and write this table with raw SQL (see call-store.ts); the entity
 * is the model the migrations come from.
 */
@Entity({ tableName: 'call' })
// Keyset pagination and the default listing: newest first within one tenant.
@Index({ name: 'call_tenant_created_idx', properties: ['app', 'mode', 'createdAt', 'id'] })
@Index({ name: 'call_tenant_status_created_idx', properties: ['app', 'mode', 'status', 'createdAt', 'id'] })
// `metadata @> {...}` filters; jsonb_path_ops is smaller and faster for containment.
@Index({ name: 'call_metadata_gin_idx', expression: 'create index "call_metadata_gin_idx" on "call" using gin ("metadata" jsonb_path_ops)' })
// One call per idempotency key and tenant: the constraint, not a read-then-write, makes it safe.
@Index({
  name: 'call_idempotency_key_unique',
  expression: 'create unique index "call_idempotency_key_unique" on "call" ("app_id", "mode", "idempotency_key") where "idempotency_key" is not null',
})
// Calls that have not ended: what the simulator resumes after a restart.
@Index({
  name: 'call_unfinished_idx',
  expression: `create index "call_unfinished_idx" on "call" ("mode", "created_at") where "status" in ('initiated', 'ringing', 'in_progress', 'voicemail')`,
})
export class CallEntity {
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: ['test', 'live'], type: 'string' })
  mode!: 'test' | 'live';

  @Enum({ items: () => CallDirection, type: 'string' })
  direction!: CallDirection;

  @Enum({ items: () => CallStatus, type: 'string' })
  status!: CallStatus;

  @Property({ type: 'string', length: 128 })
  fromAddress!: string;

  @Property({ type: 'string', length: 128 })
  toAddress!: string;

  @Enum({ items: () => Channel, type: 'string' })
  fromChannel!: Channel;

  @Enum({ items: () => Channel, type: 'string' })
  toChannel!: Channel;

  @Property({ type: 'integer', nullable: true })
  duration: number | null = null;

  @Property({ type: 'string', length: 64, nullable: true })
  endReason: string | null = null;

  @Property({ type: 'json', columnType: 'jsonb', defaultRaw: `'{}'` })
  metadata: Record<string, unknown> = {};

  @Property({ type: 'string', length: 64, nullable: true })
  livekitRoomName: string | null = null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  startedAt: Date | null = null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  answeredAt: Date | null = null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  endedAt: Date | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  @Property({ type: 'string', length: 255, nullable: true })
  idempotencyKey: string | null = null;

  /** SHA-256 of the normalised create input: tells a replay from a reuse of the key. */
  @Property({ type: 'string', length: 64, nullable: true })
  requestFingerprint: string | null = null;

  /** Sequence of the newest event: the next transition takes lastSequence + 1. */
  @Property({ type: 'integer', default: 1 })
  lastSequence: number = 1;
}
