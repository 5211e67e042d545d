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
 *
 * Access tokens (browsers) do not spend their minting key's budget: each token has its own share
 * (RATE_LIMIT_TOKEN_SHARE percent of the key's rate), and all tokens of one key together at most
 * the key's rate, counted apart from it. So one browser cannot lock out the others, and no number
 * of browsers can lock out their backend: the secret key always keeps its whole budget.
 */
export class KeyRateLimiter {
  private readonly keys: Budget | null;
  private readonly tokens: Budget | null;
  private readonly tokensOfKey: Budget | null;
  private readonly redis: Redis | null = null;

  constructor(options: { perMinute: number; tokenSharePercent: number; redisUrl: string | undefined; pool: pg.Pool }, logger: Logger) {
    if (options.perMinute <= 0) {
      this.keys = this.tokens = this.tokensOfKey = null;
      return;
    }
    if (options.redisUrl) {
      this.redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
      this.redis.on('error', () => {});
    }
    const budget = (points: number) => new Budget(points, this.redis, options.pool, logger);
    this.keys = budget(options.perMinute);
    this.tokens = budget(Math.max(1, Math.ceil((options.perMinute * options.tokenSharePercent) / 100)));
    this.tokensOfKey = budget(options.perMinute);
  }

  /** null: allowed; else seconds until one more request is allowed. A token's request counts against its own share and its key's tokens. */
  async consume(keyId: string, tokenId?: string): Promise<number | null> {
    if (!this.keys || !this.tokens || !this.tokensOfKey) return null;
    if (tokenId === undefined) return this.keys.consume(keyId);
    return (await this.tokens.consume(`t:${tokenId}`)) ?? (await this.tokensOfKey.consume(`k:${keyId}`));
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}

/** One budget of `points` per minute and id, in Redis (leased) or PostgreSQL, with the in-memory insurance. */
class Budget {
  private readonly limiter: RateLimiterAbstract | null = null;
  private readonly leased: LeasedRateLimiter | null = null;
  private readonly insurance: RateLimiterMemory;

  constructor(
    points: number,
    redis: Redis | null,
    pool: pg.Pool,
    private readonly logger: Logger,
  ) {
    this.insurance = new RateLimiterMemory({ points, duration: 60 });
    if (redis) {
      this.leased = new LeasedRateLimiter(redis, { points, windowMs: 60_000 });
    } else {
      this.limiter = new RateLimiterPostgres({
        points,
        duration: 60,
        keyPrefix: 'rl',
        insuranceLimiter: this.insurance,
        storeClient: pool,
        storeType: 'pool',
        tableName: 'rate_limit',
        tableCreated: true,
        clearExpiredByTimeout: false,
      });
    }
  }

  async consume(id: string): Promise<number | null> {
    if (this.leased) {
      try {
        const waitMs = await this.leased.consume(id);
        return waitMs === null ? null : Math.max(1, Math.ceil(waitMs / 1000));
      } catch {
        return this.insure(id);
      }
    }
    try {
      await this.limiter!.consume(id);
      return null;
    } catch (result) {
      if (result instanceof RateLimiterRes) return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
      this.logger.error('rate limit store failed; request let through', { error: String((result as Error)?.message ?? result) });
      return null;
    }
  }

  /** Redis cannot be asked: this process counts alone, at the same limit. */
  private async insure(id: string): Promise<number | null> {
    try {
      await this.insurance.consume(id);
      return null;
    } catch (result) {
      if (result instanceof RateLimiterRes) return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
      return null;
    }
  }
}
