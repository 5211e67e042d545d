import { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../domain/logger.js';
import { PgLeaseStore } from '../db/pg-rate-lease.js';
import { LeasedRateLimiter, RedisLeaseStore, type LeaseStore } from './rate-limit-lease.js';

/**
 * Requests per API key per minute, counted across every gateway process: points leased in chunks
 * and spent locally (rate-limit-lease.ts: no round trip per request, never over the limit), from
 * Redis with REDIS_URL, else from the `rate_limit` table of PostgreSQL (one function call a lease;
 * rate-limiter-flexible's store wrote a row per request, half of createCall's cost). HTTP operations and WebSocket subscribes both count. While the store is down, an
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
    const store: LeaseStore = this.redis ? new RedisLeaseStore(this.redis) : new PgLeaseStore(options.pool);
    const budget = (points: number) => new Budget(points, store, logger);
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

/** One budget of `points` per minute and id, leased from Redis or PostgreSQL, with the in-memory insurance. */
class Budget {
  private readonly leased: LeasedRateLimiter;
  private readonly insurance: RateLimiterMemory;
  /** The store's failures are logged at most once a minute (every request would fail alike). */
  private warnedAt = 0;

  constructor(
    points: number,
    store: LeaseStore,
    private readonly logger: Logger,
  ) {
    this.insurance = new RateLimiterMemory({ points, duration: 60 });
    this.leased = new LeasedRateLimiter(store, { points, windowMs: 60_000 });
  }

  async consume(id: string): Promise<number | null> {
    try {
      const waitMs = await this.leased.consume(id);
      return waitMs === null ? null : Math.max(1, Math.ceil(waitMs / 1000));
    } catch (error) {
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.logger.warn('rate limit store failed; this process counts alone meanwhile', { error: String((error as Error)?.message ?? error) });
      }
      return this.insure(id);
    }
  }

  /** The store cannot be asked: this process counts alone, at the same limit. */
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
