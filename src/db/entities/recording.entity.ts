import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { RecordingFormat, RecordingKind, RecordingStatus } from '../../domain/command-rules.js';
import { ApplicationEntity } from './application.entity.js';
import { CallEntity } from './call.entity.js';

/** One row per startRecording; the provider's callback saves it (URL, duration). */
@Entity({ tableName: 'recording' })
@Index({ name: 'recording_call_idx', properties: ['app', 'mode', 'call', 'createdAt'] })
export class RecordingEntity {
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => CallEntity, { fieldName: 'call_id', deleteRule: 'cascade', updateRule: 'no action', foreignKeyName: 'recording_call_id_fkey' })
  call!: CallEntity;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

  /** A startRecording of the call, or a message left by sendToVoicemail. */
  @Enum({ items: () => RecordingKind, type: 'string', columnType: 'varchar(16)', default: RecordingKind.CALL })
  kind: RecordingKind = RecordingKind.CALL;

  @Enum({ items: () => RecordingFormat, type: 'string', columnType: 'varchar(8)' })
  format!: RecordingFormat;

  @Enum({ items: () => RecordingStatus, type: 'string', columnType: 'varchar(16)' })
  status!: RecordingStatus;

  /** Seconds; null until saved. */
  @Property({ type: 'integer', nullable: true })
  duration: number | null = null;

  @Property({ type: 'text', nullable: true })
  url: string | null = null;

  /** The provider's id for the recording. */
  @Property({ type: 'string', length: 256, nullable: true })
  providerRef: string | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
