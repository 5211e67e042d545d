import { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from './logger.js';

/**
 * Requests per API key per minute, counted across every gateway process (rate-limiter-flexible:
 * Redis when REDIS_URL is set, else the `rate_limit` table of PostgreSQL). HTTP operations and
 * WebSocket subscribes both count. While the store is down, rate-limiter-flexible's insurance
 * limiter counts in this process instead (the same limit per process): the limit never
 * disappears, and a Redis outage does not become an outage of the gateway.
 */
export class KeyRateLimiter {
  private readonly limiter: RateLimiterAbstract | null;
  private readonly redis: Redis | null = null;

  constructor(
    options: { perMinute: number; redisUrl: string | undefined; pool: pg.Pool },
    private readonly logger: Logger,
  ) {
    if (options.perMinute <= 0) {
      this.limiter = null;
      return;
    }
    const common = { points: options.perMinute, duration: 60, keyPrefix: 'rl', insuranceLimiter: new RateLimiterMemory({ points: options.perMinute, duration: 60 }) };
    if (options.redisUrl) {
      this.redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      this.redis.on('error', () => {});
      this.limiter = new RateLimiterRedis({ ...common, storeClient: this.redis });
    } else {
      this.limiter = new RateLimiterPostgres({ ...common, storeClient: options.pool, storeType: 'pool', tableName: 'rate_limit', tableCreated: true, clearExpiredByTimeout: false });
    }
  }

  /** null: allowed; else seconds until one more request is allowed. */
  async consume(keyId: string): Promise<number | null> {
    if (!this.limiter) return null;
    try {
      await this.limiter.consume(keyId);
      return null;
    } catch (result) {
      if (result instanceof RateLimiterRes) return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
      this.logger.error('rate limit store failed; request let through', { error: String((result as Error)?.message ?? result) });
      return null;
    }
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
