import { hashKey, parseKeyMode } from './api-keys.js';
import type { Mode, Tenant } from './call.js';

export interface Principal extends Tenant {
  readonly keyId: string;
}

export interface KeyLookup {
  /** The key's owner if the hash is known and not revoked, else null. */
  findActiveKey(hash: string): Promise<{ keyId: string; appId: string; mode: Mode } | null>;
}

/**
 * Resolves `Bearer sk_…` to an application and a mode. A malformed key is refused without a
 * database lookup; a verified one is cached for `ttlMs` so the hot paths do not pay a round trip
 * per request (a revoked key therefore stops working within ttlMs; 0 disables the cache).
 * Unknown keys are cached too (briefly), so a flood of bad keys does not reach the database.
 */
export class Authenticator {
  private readonly cache = new Map<string, { principal: Principal | null; expires: number }>();

  constructor(
    private readonly keys: KeyLookup,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** Accepts the raw header value ("Bearer sk_…") or the bare key. */
  async authenticate(authorization: string | undefined | null): Promise<Principal | null> {
    if (!authorization) return null;
    const key = authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : authorization.trim();
    if (!parseKeyMode(key)) return null;
    const hash = hashKey(key);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.expires > now) return cached.principal;

    const found = await this.keys.findActiveKey(hash);
    const principal = found ? { keyId: found.keyId, appId: found.appId, mode: found.mode } : null;
    if (this.ttlMs > 0) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(hash, { principal, expires: now + this.ttlMs });
    }
    return principal;
  }

  /** Forget cached keys (after a revocation in this process). */
  invalidate(): void {
    this.cache.clear();
  }
}
