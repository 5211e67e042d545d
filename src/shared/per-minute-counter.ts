import { LRUCache } from 'lru-cache';

/**
 * Counts per key (a client address) in one-minute windows, each starting at the key's first count,
 * for at most `maxKeys` keys (the least recently used forgotten first): "at most N refusals a
 * minute from one address" without a timer or unbounded map. Used for refused credentials
 * (domain/authenticator.ts) and for browser origins no application allows (server/cors.ts).
 */
export class PerMinuteCounter {
  private readonly windows: LRUCache<string, { count: number; resetAt: number }>;

  constructor(
    /** The count at which a key is over (0: never). */
    private readonly limit: number,
    maxKeys: number,
  ) {
    this.windows = new LRUCache({ max: maxKeys });
  }

  /** null when `key` is under its limit, else the seconds until its window ends (at least 1). */
  over(key: string, now = Date.now()): number | null {
    if (this.limit <= 0) return null;
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now || window.count < this.limit) return null;
    return Math.max(1, Math.ceil((window.resetAt - now) / 1000));
  }

  add(key: string, now = Date.now()): void {
    if (this.limit <= 0) return;
    const window = this.windows.get(key);
    if (window && window.resetAt > now) window.count++;
    else this.windows.set(key, { count: 1, resetAt: now + 60_000 });
  }
}
