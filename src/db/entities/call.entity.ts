import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { AnsweredBy, CallDirection, CallStatus, Channel, EndReason, HangupSource, MODES, type Mode } from '../../domain/call.js';
import { LIVE_STATUSES } from '../../domain/call-status-rules.js';
import { inList } from '../sql-literals.js';
import { ApplicationEntity } from './application.entity.js';

/**
 * A call. The hot paths read and write this table with their own SQL (db/pg-call-store.ts, which
 * says why); the entity is the model the migrations come from and the column names that SQL uses.
 */
@Entity({ tableName: 'call' })
// Keyset pagination and the default listing: newest first within one tenant. It also covers
// callStats (INCLUDE: every column a group or a figure reads), so stats over a range of createdAt
// are an index-only scan: no heap fetch per call.
@Index({
  name: 'call_tenant_created_idx',
  expression:
    'create index "call_tenant_created_idx" on "call" ("app_id", "mode", "created_at", "id") include ("status", "direction", "from_channel", "to_channel", "end_reason", "answered_at", "duration")',
})
@Index({ name: 'call_tenant_status_created_idx', properties: ['app', 'mode', 'status', 'createdAt', 'id'] })
// Listings ordered by started_at, ended_at or duration (calls(orderBy:)), and range filters on
// them: partial, so inserting a call (the three are NULL then) costs these indexes nothing.
@Index({
  name: 'call_tenant_started_idx',
  expression: 'create index "call_tenant_started_idx" on "call" ("app_id", "mode", "started_at", "id") where "started_at" is not null',
})
@Index({
  name: 'call_tenant_ended_idx',
  expression: 'create index "call_tenant_ended_idx" on "call" ("app_id", "mode", "ended_at", "id") where "ended_at" is not null',
})
@Index({
  name: 'call_tenant_duration_idx',
  expression: 'create index "call_tenant_duration_idx" on "call" ("app_id", "mode", "duration", "id") where "duration" is not null',
})
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
  expression: `create index "call_unfinished_idx" on "call" ("mode", "created_at") where "status" in ${inList(LIVE_STATUSES)}`,
})
// A provider's callback names the call by the provider's own id (Telnyx call_control_id, WhatsApp call id).
@Index({
  name: 'call_provider_ref_unique',
  expression: 'create unique index "call_provider_ref_unique" on "call" ("provider", "provider_call_id") where "provider_call_id" is not null',
})
export class CallEntity {
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

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

  @Enum({ items: () => EndReason, type: 'string', nullable: true })
  endReason: EndReason | null = null;

  @Enum({ items: () => HangupSource, type: 'string', nullable: true })
  hangupSource: HangupSource | null = null;

  /** createCall's options (domain CallOptions), only those given. */
  @Property({ type: 'json', columnType: 'jsonb', defaultRaw: `'{}'` })
  options: Record<string, unknown> = {};

  @Enum({ items: () => AnsweredBy, type: 'string', nullable: true })
  answeredBy: AnsweredBy | null = null;

  /** The SIP response code the provider gave for the end. */
  @Property({ type: 'smallint', nullable: true })
  sipCode: number | null = null;

  @Property({ type: 'json', columnType: 'jsonb', defaultRaw: `'{}'` })
  metadata: Record<string, unknown> = {};

  /** The platform's field: set for calls with a WebRTC leg only (domain/call.ts, roomsFor). */
  @Property({ type: 'string', length: 64, nullable: true })
  livekitRoomName: string | null = null;

  /** The LiveKit room where the legs meet (every pair but PSTN to PSTN): what the providers use. */
  @Property({ type: 'string', length: 64, nullable: true })
  roomName: string | null = null;

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

  /** The W3C traceparent of the request that created the call (tracing on), parent of its later spans. */
  @Property({ type: 'string', length: 55, nullable: true })
  traceParent: string | null = null;

  /** Sequence of the newest event: the next transition takes lastSequence + 1. */
  @Property({ type: 'integer', default: 1 })
  lastSequence: number = 1;

  /** The channel provider that carries the call (`simulator` for test calls). */
  @Property({ type: 'string', length: 32, nullable: true })
  provider: string | null = null;

  /** The provider's own id for the call, which its callbacks carry. */
  @Property({ type: 'string', length: 256, nullable: true })
  providerCallId: string | null = null;

  @Property({ type: 'boolean', default: false })
  onHold: boolean = false;

  /** The legs (`from`, `to`) muted by commands. */
  @Property({ type: 'string[]', columnType: 'text[]', defaultRaw: `'{}'` })
  mutedLegs: string[] = [];

  /** The recording in progress, if any. */
  @Property({ type: 'string', length: 40, nullable: true })
  recordingId: string | null = null;

  @Property({ type: 'string', length: 128, nullable: true })
  transferredTo: string | null = null;

  @Enum({ items: () => Channel, type: 'string', nullable: true })
  transferredToChannel: Channel | null = null;
}
