import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * Where the window's points are counted for every process: one call takes max(1, floor(left ×
 * fraction)) of the points left (0 when none are) and says how long the window lasts still (ms).
 * Redis (a Lua script, below) or PostgreSQL (db/pg-rate-lease.ts: a function, one round trip).
 */
export interface LeaseStore {
  lease(key: string, points: number, fraction: number, windowMs: number): Promise<[granted: number, ttlMs: number]>;
}

/**
 * A per-key limit of `points` per fixed window, shared by every process through Redis or
 * PostgreSQL, without a round trip per request: a process leases points in chunks (one call takes
 * up to a tenth of what is left in the window, at least 1) and spends them locally. Never more than the
 * limit is admitted across processes; the cost is that points one process leased and did not
 * spend are lost to the others until the window ends (at most a tenth of what was left, per
 * lease). Near the limit the chunks are single points, so the last requests of a window are
 * counted exactly across processes, as with one round trip per request.
 *
 * Why not a library: rate-limiter-flexible (kept for the PostgreSQL store) sends every consume to
 * its store; its `inMemoryBlockOnConsumed` spares the round trip only once a key is blocked.
 *
 * Bounded: one small entry per key seen in the current window, in an LRU (`maxKeys`); an evicted
 * key's leased points are lost, never over-admitted.
 */
export class LeasedRateLimiter {
  private readonly leases: LRUCache<string, Lease>;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: { points: number; windowMs: number; maxKeys?: number; fraction?: number; prefix?: string },
  ) {
    this.leases = new LRUCache({ max: options.maxKeys ?? 100_000 });
  }

  /** null: allowed; else milliseconds until the window ends. Rejects when Redis cannot be asked. */
  async consume(key: string): Promise<number | null> {
    let lease = this.leases.get(key);
    for (;;) {
      // The window (started by the first point any process took, as Redis's expiry says) is over.
      if (!lease || (lease.endsAt <= Date.now() && !lease.pending)) {
        lease = { endsAt: 0, left: 0, exhausted: false, pending: null };
        this.leases.set(key, lease);
      }
      if (lease.left > 0 && lease.endsAt > Date.now()) {
        lease.left--;
        return null;
      }
      if (lease.exhausted && lease.endsAt > Date.now()) return lease.endsAt - Date.now();
      // One lease request per key at a time: concurrent requests wait for its answer.
      lease.pending ??= this.lease(key, lease);
      await lease.pending;
    }
  }

  private async lease(key: string, lease: Lease): Promise<void> {
    try {
      const [granted, ttlMs] = await this.store.lease(
        `${this.options.prefix ?? 'rll'}:${key}`,
        this.options.points,
        this.options.fraction ?? 0.1,
        this.options.windowMs,
      );
      lease.endsAt = Date.now() + Math.max(1, Number(ttlMs));
      lease.left = Number(granted);
      lease.exhausted = lease.left === 0;
    } finally {
      lease.pending = null;
    }
  }
}

interface Lease {
  /** When the window ends (this process's clock; Redis's expiry when leased). */
  endsAt: number;
  /** Points leased and not yet spent. */
  left: number;
  /** The window's points are all leased (by any process). */
  exhausted: boolean;
  pending: Promise<void> | null;
}

type LeaseCommand = { leasePoints(key: string, points: number, fraction: number, windowMs: number): Promise<[number, number]> };

/** The lease in Redis: one Lua call (LEASE_SCRIPT). */
export class RedisLeaseStore implements LeaseStore {
  constructor(private readonly redis: Redis) {
    redis.defineCommand('leasePoints', { numberOfKeys: 1, lua: LEASE_SCRIPT });
  }

  async lease(key: string, points: number, fraction: number, windowMs: number): Promise<[number, number]> {
    const [granted, ttlMs] = await (this.redis as unknown as LeaseCommand).leasePoints(key, points, fraction, windowMs);
    return [Number(granted), Number(ttlMs)];
  }
}

/**
 * Takes max(1, floor(left × fraction)) of the window's points left (0 when none are), and says
 * how long the window lasts still. The first point taken starts the window (its key's expiry),
 * as rate-limiter-flexible's fixed windows do. PostgreSQL's twin: calls_gateway_lease_points
 * (migration 20261207170000), held to it by test/rate-limit.test.ts, which runs every lease test
 * on both stores.
 */
const LEASE_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used == 0 then redis.call('SET', KEYS[1], 0, 'PX', ARGV[3]) end
local left = tonumber(ARGV[1]) - used
local take = 0
if left > 0 then
  take = math.max(1, math.floor(left * tonumber(ARGV[2])))
  redis.call('INCRBY', KEYS[1], take)
end
return {take, redis.call('PTTL', KEYS[1])}`;
