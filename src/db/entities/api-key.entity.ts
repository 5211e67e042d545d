import { Entity, OptionalProps, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { ApplicationEntity } from './application.entity.js';

/** An API key: only its SHA-256 and a display prefix are stored, never the key. */
@Entity({ tableName: 'api_key' })
@Index({ properties: ['app'] })
export class ApiKeyEntity {
  [OptionalProps]?: 'createdAt' | 'revokedAt';

  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Enum({ items: [...MODES], type: 'string' })
  mode!: Mode;

  /** hex SHA-256 of the whole key. */
  @Property({ type: 'string', length: 64, unique: 'api_key_hash_unique' })
  hash!: string;

  @Property({ type: 'string', length: 32 })
  displayPrefix!: string;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', length: 3, nullable: true })
  revokedAt: Date | null = null;
}
