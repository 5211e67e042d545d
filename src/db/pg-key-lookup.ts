import type { Mode } from '../domain/call.js';
import type { KeyLookup } from '../domain/authenticator.js';
import type { Sql } from './sql.js';

type ActiveKey = { keyId: string; appId: string; mode: Mode };

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
      `SELECT id AS "keyId", app_id AS "appId", mode FROM api_key
        WHERE ${column} = $1 AND (revoked_at IS NULL OR revoked_at > now())`,
      [value],
      statement,
    );
    return row ?? null;
  }
}
