import { ArrayType, Entity, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { DOCUMENTS_POLICIES, type DocumentsPolicy } from '../../domain/trusted-documents.js';

/** A customer application: owns API keys, phone numbers and calls. */
@Entity({ tableName: 'application' })
// A preflight asks whether any application allows an origin (allowed_origins @> ARRAY[origin]).
@Index({ name: 'application_allowed_origins_idx', properties: ['allowedOrigins'], type: 'gin' })
export class ApplicationEntity {
  [OptionalProps]?: 'createdAt' | 'allowedOrigins' | 'documentsPolicy';

  @PrimaryKey({ type: 'string', length: 32 })
  id!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  /** Browser origins (scheme://host[:port]) allowed to call the gateway with this application's access tokens (CORS). */
  @Property({ type: ArrayType, columnType: 'text[]', defaultRaw: `'{}'` })
  allowedOrigins: string[] = [];

  /** Who may send documents of their own rather than name registered ones (domain/trusted-documents.ts). */
  @Enum({ items: [...DOCUMENTS_POLICIES], type: 'string', default: 'ANY' })
  documentsPolicy: DocumentsPolicy = 'ANY';

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
