import { Entity, Enum, ManyToOne, OptionalProps, Property } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { ApplicationEntity } from './application.entity.js';

/**
 * An application's secret (per mode) that signs the status callbacks of its calls (createCall's
 * statusCallbackUrl), sealed at rest like an endpoint's (db/secret-box.ts).
 */
@Entity({ tableName: 'status_callback_secret' })
export class StatusCallbackSecretEntity {
  [OptionalProps]?: 'previousSecret' | 'previousSecretExpiresAt' | 'createdAt' | 'updatedAt';

  @ManyToOne(() => ApplicationEntity, { primary: true, fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string', primary: true })
  mode!: Mode;

  @Property({ type: 'string', length: 100 })
  secret!: string;

  /** After a rotation, the old secret still signs until previousSecretExpiresAt. */
  @Property({ type: 'string', length: 100, nullable: true })
  previousSecret: string | null = null;

  @Property({ type: 'datetime', length: 3, nullable: true })
  previousSecretExpiresAt: Date | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt!: Date;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  updatedAt!: Date;
}
