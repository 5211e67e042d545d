import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { ApplicationEntity } from './application.entity.js';

/**
 * A document an application registered (`calls-gateway documents push`), named by the SHA-256 of
 * its text (`sha256:<hex>`, domain/trusted-documents.ts). Validated against the schema and the
 * limits when pushed; never changed afterwards (its id is its text's hash).
 */
@Entity({ tableName: 'trusted_document' })
export class TrustedDocumentEntity {
  [OptionalProps]?: 'createdAt';

  @ManyToOne(() => ApplicationEntity, { primary: true, fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @PrimaryKey({ type: 'string', length: 71 })
  id!: string;

  @Property({ type: 'text' })
  body!: string;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
