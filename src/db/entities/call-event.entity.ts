import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { CallStatus } from '../../domain/call.js';
import { CallEntity } from './call.entity.js';

/**
 * The status timeline of a call: one row per applied transition, `sequence` 1, 2, 3 … per call
 * with no gaps. The table is the event log that subscriptions and webhooks read.
 */
@Entity({ tableName: 'call_event' })
@Unique({ name: 'call_event_call_sequence_unique', properties: ['call', 'sequence'] })
@Index({ name: 'call_event_tenant_position_idx', properties: ['appId', 'mode', 'position'] })
export class CallEventEntity {
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => CallEntity, { fieldName: 'call_id', deleteRule: 'cascade' })
  call!: CallEntity;

  /** Copied from the call so that tenant-scoped reads of the log need no join. */
  @Property({ type: 'string', length: 32 })
  appId!: string;

  @Enum({ items: ['test', 'live'], type: 'string' })
  mode!: 'test' | 'live';

  @Property({ type: 'integer' })
  sequence!: number;

  @Enum({ items: () => CallStatus, type: 'string' })
  status!: CallStatus;

  @Enum({ items: () => CallStatus, type: 'string', nullable: true })
  previousStatus: CallStatus | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  occurredAt: Date = new Date();

  /**
   * Position in the log, 1, 2, 3 … in commit order, assigned after commit by the sequencer
   * (src/events/sequencer.ts); null until then. Replay cursors carry it.
   */
  @Property({ type: 'bigint', columnType: 'bigint', nullable: true, unique: 'call_event_position_unique' })
  position: string | null = null;

  /** Insertion order (bigserial), so the sequencer numbers one call's events in order. */
  @Property({ type: 'bigint', columnType: 'bigserial', autoincrement: true })
  @Index({ name: 'call_event_unsequenced_idx', expression: 'create index "call_event_unsequenced_idx" on "call_event" ("insert_id") where "position" is null' })
  insertId!: string;
}
