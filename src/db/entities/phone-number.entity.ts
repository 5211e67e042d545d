import { Entity, OptionalProps, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { ApplicationEntity } from './application.entity.js';

/** A phone number (E.164) assigned to exactly one application. */
@Entity({ tableName: 'phone_number' })
@Index({ properties: ['app', 'number'] })
export class PhoneNumberEntity {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @Property({ type: 'string', length: 16, unique: 'phone_number_number_unique' })
  number!: string;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
