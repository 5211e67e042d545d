import type pg from 'pg';

/**
 * The rate limit's lease in PostgreSQL (server/rate-limit-lease.ts's LeaseStore): one call of
 * calls_gateway_lease_points (migration 20261207170000), the Redis script's twin, on the
 * `rate_limit` table. A prepared statement: it runs once per lease, not per request.
 */
export class PgLeaseStore {
  constructor(private readonly pool: pg.Pool) {}

  async lease(key: string, points: number, fraction: number, windowMs: number): Promise<[number, number]> {
    const { rows } = await this.pool.query<{ granted: number; ttl: string }>({
      name: 'rate_lease',
      text: 'SELECT granted, ttl_ms::text AS ttl FROM calls_gateway_lease_points($1, $2, $3, $4)',
      values: [key, points, fraction, windowMs],
    });
    return [rows[0]!.granted, Number(rows[0]!.ttl)];
  }
}
