import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { CallCommandStatus, CallCommandType, PENDING_COMMAND_STATUSES } from '../../domain/command-rules.js';
import { inList } from '../sql-literals.js';
import { ApplicationEntity } from './application.entity.js';
import { CallEntity } from './call.entity.js';

/** Every accepted call command, ACCEPTED → APPLIED | FAILED (db/pg-command-store.ts writes it). */
@Entity({ tableName: 'call_command' })
@Index({ name: 'call_command_call_idx', properties: ['app', 'mode', 'call', 'createdAt'] })
// At most one pending command of a type per call: a constraint, not a check-then-act.
@Index({
  name: 'call_command_pending_unique',
  expression: `create unique index "call_command_pending_unique" on "call_command" ("call_id", "type") where "status" in ${inList(PENDING_COMMAND_STATUSES)}`,
})
// Retention by time (see CallEventEntity).
@Index({ name: 'call_command_created_brin', properties: ['createdAt'], type: 'brin' })
export class CallCommandEntity {
  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => CallEntity, { fieldName: 'call_id', deleteRule: 'cascade', updateRule: 'no action', foreignKeyName: 'call_command_call_id_fkey' })
  call!: CallEntity;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

  @Enum({ items: () => CallCommandType, type: 'string', columnType: 'varchar(32)' })
  type!: CallCommandType;

  @Enum({ items: () => CallCommandStatus, type: 'string', columnType: 'varchar(16)' })
  status!: CallCommandStatus;

  /** The command's arguments (domain CommandArgs). */
  @Property({ type: 'json', columnType: 'jsonb', defaultRaw: `'{}'` })
  args: Record<string, unknown> = {};

  /** Why it failed (the provider's message). */
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
