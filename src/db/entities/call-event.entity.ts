import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { CallEventKind, CallStatus, MODES, type Mode } from '../../domain/call.js';
import { ApplicationEntity } from './application.entity.js';
import { CallEntity } from './call.entity.js';

/**
 * The timeline of a call: one row per applied transition or command effect, `sequence` 1, 2, 3 …
 * per call with no gaps. The table is the event log that subscriptions and webhooks read.
 */
@Entity({ tableName: 'call_event' })
@Unique({ name: 'call_event_call_sequence_unique', properties: ['call', 'sequence'] })
@Index({ name: 'call_event_tenant_position_idx', properties: ['app', 'mode', 'position'] })
// Retention (db/retention.ts) finds old rows by time. BRIN: occurred_at grows with insertion
// order, so the index is a few pages and costs almost nothing per insert, where a b-tree would
// slow every createCall.
@Index({ name: 'call_event_occurred_brin', properties: ['occurredAt'], type: 'brin' })
export class CallEventEntity {
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => CallEntity, { fieldName: 'call_id', deleteRule: 'cascade' })
  call!: CallEntity;

  /** Copied from the call so that tenant-scoped reads of the log need no join. */
  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

  @Property({ type: 'integer' })
  sequence!: number;

  /** A status change, or a command's effect (HELD, MUTED, RECORDING_SAVED …). */
  @Enum({ items: () => CallEventKind, type: 'string', columnType: 'varchar(32)', default: CallEventKind.STATUS_CHANGED })
  type: CallEventKind = CallEventKind.STATUS_CHANGED;

  /** The command whose effect this event is, if any. */
  @Property({ type: 'string', length: 40, nullable: true })
  commandId: string | null = null;

  /** DTMF_SENT / DTMF_RECEIVED: the digits. */
  @Property({ type: 'string', length: 64, nullable: true })
  digits: string | null = null;

  @Enum({ items: () => CallStatus, type: 'string' })
  status!: CallStatus;

  @Enum({ items: () => CallStatus, type: 'string', nullable: true })
  previousStatus: CallStatus | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  occurredAt: Date = new Date();

  /**
   * Position in the log, 1, 2, 3 … in commit order, assigned after commit by the sequencer
   * (db/pg-event-log.ts, and the SQL function its migration defines); null until then. Replay
   * cursors carry it.
   */
  @Property({ type: 'bigint', columnType: 'bigint', nullable: true, unique: 'call_event_position_unique' })
  position: string | null = null;

  /** Insertion order (bigserial), so the sequencer numbers one call's events in order. */
  @Property({ type: 'bigint', columnType: 'bigserial', autoincrement: true })
  @Index({ name: 'call_event_unsequenced_idx', expression: 'create index "call_event_unsequenced_idx" on "call_event" ("insert_id") where "position" is null' })
  insertId!: string;
}
