import type { TrustedDocumentStore } from '../domain/trusted-documents.js';
import type { Sql } from './sql.js';

/** The registered documents, read by id on the request path (one primary-key lookup, cached by server/trusted-documents.ts). */
export class PgTrustedDocumentStore implements TrustedDocumentStore {
  constructor(private readonly sql: Sql) {}

  async find(appId: string, id: string): Promise<string | null> {
    const [row] = await this.sql.query<{ body: string }>(
      `SELECT body FROM trusted_document WHERE app_id = $1 AND id = $2`,
      [appId, id],
      'find_trusted_document',
    );
    return row?.body ?? null;
  }
}
