import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * Counters of rate-limiter-flexible's PostgreSQL store, shared by every gateway process. The
 * library reads and writes it with its own SQL; these are its columns, as it defines them.
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
