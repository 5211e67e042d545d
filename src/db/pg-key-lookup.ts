import type { Mode } from '../domain/call.js';
import type { KeyLookup } from '../domain/authenticator.js';
import type { Sql } from './sql.js';

export class PgKeyLookup implements KeyLookup {
  constructor(private readonly sql: Sql) {}

  async findActiveKey(hash: string): Promise<{ keyId: string; appId: string; mode: Mode } | null> {
    const [row] = await this.sql.query<{ keyId: string; appId: string; mode: Mode }>(
      `SELECT id AS "keyId", app_id AS "appId", mode FROM api_key
        WHERE hash = $1 AND (revoked_at IS NULL OR revoked_at > now())`,
      [hash],
      'find_api_key',
    );
    return row ?? null;
  }

  async findActiveKeyById(keyId: string): Promise<{ keyId: string; appId: string; mode: Mode } | null> {
    const [row] = await this.sql.query<{ keyId: string; appId: string; mode: Mode }>(
      `SELECT id AS "keyId", app_id AS "appId", mode FROM api_key
        WHERE id = $1 AND (revoked_at IS NULL OR revoked_at > now())`,
      [keyId],
      'find_api_key_by_id',
    );
    return row ?? null;
  }
}
