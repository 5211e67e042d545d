import type { OriginStore } from '../domain/origins.js';
import type { Sql } from './sql.js';

export class PgOriginStore implements OriginStore {
  constructor(private readonly sql: Sql) {}

  async anyAllows(origin: string): Promise<boolean> {
    const [row] = await this.sql.query<{ allowed: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM application WHERE allowed_origins @> ARRAY[$1::text]) AS allowed`,
      [origin],
      'any_app_allows_origin',
    );
    return row?.allowed ?? false;
  }

  async originsOf(appId: string): Promise<readonly string[]> {
    const [row] = await this.sql.query<{ origins: string[] }>(`SELECT allowed_origins AS origins FROM application WHERE id = $1`, [appId], 'app_origins');
    return row?.origins ?? [];
  }
}
