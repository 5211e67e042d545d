import { LRUCache } from 'lru-cache';
import { hashKey, parseKeyMode } from './api-keys.js';
import type { Mode, Tenant } from './call.js';

export interface Principal extends Tenant {
  readonly keyId: string;
}

export interface KeyLookup {
  /** The key's owner if the hash is known and not revoked, else null. */
  findActiveKey(hash: string): Promise<{ keyId: string; appId: string; mode: Mode } | null>;
}

export interface AuthOptions {
  /** How long a verified (or unknown) key is trusted without asking the database again; 0: always ask. */
  ttlMs: number;
  /** Keys remembered, verified and unknown each (least recently used dropped first). */
  maxEntries: number;
  /** Refused credentials one client address may present per minute before it is refused without a lookup; 0: no limit. */
  failuresPerMinute?: number;
}

export type AuthResult = { principal: Principal } | { refused: 'unauthenticated' } | { refused: 'blocked'; retryAfter: number };

/**
 * Resolves `Bearer sk_…` to an application and a mode. A malformed key (its checksum fails) is
 * refused without a database lookup; a verified one is remembered for `ttlMs` so the hot paths do
 * not pay a round trip per request (a revoked key therefore stops working within ttlMs).
 *
 * Bounded against floods of keys that pass the checksum but were never issued: verified and
 * unknown keys live in two separate LRUs (lru-cache), so unknown ones can never push a verified
 * key out, and a repeated unknown key costs no lookup; a client address that presents more than
 * `failuresPerMinute` refused credentials is refused without any lookup for the rest of its
 * minute (its keys already verified still pass: a NAT'ed office keeps working).
 */
export class Authenticator {
  private readonly verified: LRUCache<string, Principal> | null;
  private readonly unknown: LRUCache<string, true> | null;
  private readonly failures: LRUCache<string, { count: number; resetAt: number }>;
  private readonly failuresPerMinute: number;

  constructor(
    private readonly keys: KeyLookup,
    options: AuthOptions,
  ) {
    const max = options.maxEntries;
    this.verified = options.ttlMs > 0 ? new LRUCache({ max, ttl: options.ttlMs }) : null;
    this.unknown = options.ttlMs > 0 ? new LRUCache({ max, ttl: options.ttlMs }) : null;
    this.failures = new LRUCache({ max });
    this.failuresPerMinute = options.failuresPerMinute ?? 0;
  }

  /** Accepts the raw header value ("Bearer sk_…") or the bare key. */
  async authenticate(authorization: string | undefined | null): Promise<Principal | null> {
    const hash = this.hashOf(authorization);
    if (!hash) return null;
    const cached = this.verified?.get(hash);
    if (cached) return cached;
    if (this.unknown?.has(hash)) return null;
    const found = await this.keys.findActiveKey(hash);
    if (!found) {
      this.unknown?.set(hash, true);
      return null;
    }
    const principal = { keyId: found.keyId, appId: found.appId, mode: found.mode };
    this.verified?.set(hash, principal);
    return principal;
  }

  /** `authenticate`, counting refusals per client address (HTTP requests, WebSocket connections). */
  async authenticateFrom(address: string | undefined, authorization: string | undefined | null): Promise<AuthResult> {
    const now = Date.now();
    const key = address ?? 'unknown';
    const failures = this.failuresPerMinute > 0 ? this.failures.get(key) : undefined;
    if (failures && failures.resetAt <= now) this.failures.delete(key);
    else if (failures && failures.count >= this.failuresPerMinute) {
      const hash = this.hashOf(authorization);
      const cached = hash ? this.verified?.get(hash) : undefined;
      return cached ? { principal: cached } : { refused: 'blocked', retryAfter: Math.max(1, Math.ceil((failures.resetAt - now) / 1000)) };
    }
    const principal = await this.authenticate(authorization);
    if (principal) return { principal };
    if (this.failuresPerMinute > 0 && authorization) {
      const entry = this.failures.get(key) ?? { count: 0, resetAt: now + 60_000 };
      entry.count++;
      this.failures.set(key, entry);
    }
    return { refused: 'unauthenticated' };
  }

  /** Forget cached keys (after a revocation in this process). */
  invalidate(): void {
    this.verified?.clear();
    this.unknown?.clear();
  }

  private hashOf(authorization: string | undefined | null): string | null {
    if (!authorization) return null;
    const key = authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : authorization.trim();
    return parseKeyMode(key) ? hashKey(key) : null;
  }
}
