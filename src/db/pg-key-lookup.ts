import type { ActiveKey, KeyLookup } from '../domain/authenticator.js';
import type { Sql } from './sql.js';

export class PgKeyLookup implements KeyLookup {
  constructor(private readonly sql: Sql) {}

  findActiveKey(hash: string): Promise<ActiveKey | null> {
    return this.find('hash', hash, 'find_api_key');
  }

  /** An access token's issuing key (the primary key). */
  findActiveKeyById(keyId: string): Promise<ActiveKey | null> {
    return this.find('id', keyId, 'find_api_key_by_id');
  }

  private async find(column: 'hash' | 'id', value: string, statement: string): Promise<ActiveKey | null> {
    const [row] = await this.sql.query<ActiveKey>(
      `SELECT k.id AS "keyId", k.app_id AS "appId", k.mode, a.documents_policy AS "documentsPolicy"
         FROM api_key k JOIN application a ON a.id = k.app_id
        WHERE k.${column} = $1 AND (k.revoked_at IS NULL OR k.revoked_at > now())`,
      [value],
      statement,
    );
    return row ?? null;
  }
}
