import { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../domain/logger.js';
import { LeasedRateLimiter } from './rate-limit-lease.js';

/**
 * Requests per API key per minute, counted across every gateway process: with REDIS_URL, points
 * leased from Redis in chunks and spent locally (rate-limit-lease.ts: no round trip per request,
 * never over the limit); without it, rate-limiter-flexible on the `rate_limit` table of
 * PostgreSQL. HTTP operations and WebSocket subscribes both count. While the store is down, an
 * in-memory limiter counts in this process instead (the same limit per process): the limit never
 * disappears, and a Redis outage does not become an outage of the gateway.
 */
export class KeyRateLimiter {
  private readonly limiter: RateLimiterAbstract | null;
  private readonly leased: LeasedRateLimiter | null = null;
  private readonly insurance: RateLimiterMemory | null = null;
  private readonly redis: Redis | null = null;

  constructor(
    options: { perMinute: number; redisUrl: string | undefined; pool: pg.Pool },
    private readonly logger: Logger,
  ) {
    if (options.perMinute <= 0) {
      this.limiter = null;
      return;
    }
    const common = {
      points: options.perMinute,
      duration: 60,
      keyPrefix: 'rl',
      insuranceLimiter: new RateLimiterMemory({ points: options.perMinute, duration: 60 }),
    };
    if (options.redisUrl) {
      this.redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      this.redis.on('error', () => {});
      this.leased = new LeasedRateLimiter(this.redis, { points: options.perMinute, windowMs: 60_000 });
      this.insurance = common.insuranceLimiter;
      this.limiter = null;
    } else {
      this.limiter = new RateLimiterPostgres({
        ...common,
        storeClient: options.pool,
        storeType: 'pool',
        tableName: 'rate_limit',
        tableCreated: true,
        clearExpiredByTimeout: false,
      });
    }
  }

  /** null: allowed; else seconds until one more request is allowed. */
  async consume(keyId: string): Promise<number | null> {
    if (this.leased) {
      try {
        const waitMs = await this.leased.consume(keyId);
        return waitMs === null ? null : Math.max(1, Math.ceil(waitMs / 1000));
      } catch {
        return this.insure(keyId);
      }
    }
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

  /** Redis cannot be asked: this process counts alone, at the same limit. */
  private async insure(keyId: string): Promise<number | null> {
    try {
      await this.insurance!.consume(keyId);
      return null;
    } catch (result) {
      if (result instanceof RateLimiterRes) return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
      return null;
    }
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
