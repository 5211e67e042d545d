import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** A customer application: owns API keys, phone numbers and calls. */
@Entity({ tableName: 'application' })
export class ApplicationEntity {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'string', length: 32 })
  id!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
