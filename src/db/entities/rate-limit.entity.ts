import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The rate limit's counters in PostgreSQL (without Redis), shared by every gateway process: one
 * row per key (and per access token), leased from in chunks by calls_gateway_lease_points
 * (migration 20261207170000). The columns are those rate-limiter-flexible's store defined, which
 * kept them before. Retention deletes counters whose window ended over a day ago.
 */
@Entity({ tableName: 'rate_limit' })
export class RateLimitEntity {
  @PrimaryKey({ type: 'string', length: 255 })
  key!: string;

  @Property({ type: 'integer', default: 0 })
  points: number = 0;

  /** Epoch milliseconds when the counter resets; null: never. */
  @Property({ type: 'bigint', columnType: 'bigint', nullable: true })
  expire: string | null = null;
}
