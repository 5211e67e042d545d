import { LRUCache } from 'lru-cache';
import { PerMinuteCounter } from '../shared/per-minute-counter.js';
import { hashKey, parseKeyMode } from './api-keys.js';
import { looksLikeToken, type AccessScope, type AccessTokens } from './access-tokens.js';
import type { Mode, Tenant } from './call.js';
import type { CallFilter } from './call-store.js';
import type { DocumentsPolicy } from './trusted-documents.js';

export interface Principal extends Tenant {
  /** The API key: the secret key itself, or the key an access token was minted with (its rate limit and revocation). */
  readonly keyId: string;
  /** Set for an access token: what it may do, and until when. Absent: a secret key, which may do everything. */
  readonly token?: {
    readonly id: string;
    readonly scopes: ReadonlySet<AccessScope>;
    readonly expiresAt: Date;
    /** The identity the holder joins rooms as (createCallToken); null: any but the call's own parties. */
    readonly participantIdentity: string | null;
  };
  /** An access token's filter: ANDed into every call read, subscribed to or created (db/pg-call-store.ts Where, live matching). */
  readonly scope?: CallFilter | null;
  /** The application's documents policy (domain/trusted-documents.ts), read with the key; absent: ANY. */
  readonly documentsPolicy?: DocumentsPolicy;
}

/** A key that authenticates: its application and mode, and that application's documents policy (absent: ANY). */
export type ActiveKey = { keyId: string; appId: string; mode: Mode; documentsPolicy?: DocumentsPolicy };

export interface KeyLookup {
  /** The key's owner if the hash is known and not revoked, else null. */
  findActiveKey(hash: string): Promise<ActiveKey | null>;
  /** The same, by the key's id (the issuing key of an access token). */
  findActiveKeyById(keyId: string): Promise<ActiveKey | null>;
}

export interface AuthOptions {
  /** How long a verified (or unknown) key is trusted without asking the database again; 0: always ask. */
  ttlMs: number;
  /** Keys remembered, verified and unknown each (least recently used dropped first). */
  maxEntries: number;
  /** Refused credentials one client address may present per minute before it is refused without a lookup; 0: no limit. */
  failuresPerMinute?: number;
  /** Verifies access tokens (`Bearer eyJ…`); without it only secret keys are accepted. */
  tokens?: AccessTokens;
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
  private readonly failures: PerMinuteCounter;
  private readonly tokens: AccessTokens | undefined;

  constructor(
    private readonly keys: KeyLookup,
    options: AuthOptions,
  ) {
    const max = options.maxEntries;
    this.verified = options.ttlMs > 0 ? new LRUCache({ max, ttl: options.ttlMs }) : null;
    this.unknown = options.ttlMs > 0 ? new LRUCache({ max, ttl: options.ttlMs }) : null;
    this.failures = new PerMinuteCounter(options.failuresPerMinute ?? 0, max);
    this.tokens = options.tokens;
  }

  /** Accepts the raw header value ("Bearer sk_…", "Bearer eyJ…") or the bare credential. */
  async authenticate(authorization: string | undefined | null): Promise<Principal | null> {
    const hash = this.hashOf(authorization);
    if (!hash) return null;
    const cached = this.verified?.get(hash);
    if (cached) return cached;
    if (this.unknown?.has(hash)) return null;
    if (hash.startsWith('t:')) return this.authenticateToken(hash, bearer(authorization!));
    const found = await this.keys.findActiveKey(hash);
    if (!found) {
      this.unknown?.set(hash, true);
      return null;
    }
    const principal: Principal = { keyId: found.keyId, appId: found.appId, mode: found.mode, documentsPolicy: found.documentsPolicy };
    this.verified?.set(hash, principal);
    return principal;
  }

  /** `authenticate`, counting refusals per client address (HTTP requests, WebSocket connections). */
  async authenticateFrom(address: string | undefined, authorization: string | undefined | null): Promise<AuthResult> {
    const key = address ?? 'unknown';
    const retryAfter = this.failures.over(key);
    if (retryAfter !== null) {
      const hash = this.hashOf(authorization);
      const cached = hash ? this.verified?.get(hash) : undefined;
      return cached ? { principal: cached } : { refused: 'blocked', retryAfter };
    }
    const principal = await this.authenticate(authorization);
    if (principal) return { principal };
    if (authorization) this.failures.add(key);
    return { refused: 'unauthenticated' };
  }

  /**
   * An access token: its signature, expiry and claims checked locally (jose), then its issuing
   * key, which must still be active and belong to the token's application and mode. Remembered
   * as a key is (revoking the issuing key ends the token within ttlMs), never past its expiry.
   */
  private async authenticateToken(hash: string, token: string): Promise<Principal | null> {
    const grant = await this.tokens?.verify(token);
    // A forged or expired token costs no lookup, and nothing is remembered for it.
    if (!grant) return null;
    const key = await this.keys.findActiveKeyById(grant.keyId);
    if (!key || key.appId !== grant.appId || key.mode !== grant.mode) {
      this.unknown?.set(hash, true);
      return null;
    }
    const principal: Principal = {
      keyId: grant.keyId,
      appId: grant.appId,
      mode: grant.mode,
      token: { id: grant.id, scopes: grant.scopes, expiresAt: grant.expiresAt, participantIdentity: grant.participantIdentity },
      scope: grant.filter,
      documentsPolicy: key.documentsPolicy,
    };
    const left = grant.expiresAt.getTime() - Date.now();
    if (this.verified && left > 0) this.verified.set(hash, principal, { ttl: Math.min(left, this.verified.ttl) });
    return principal;
  }

  /** Forget cached keys (after a revocation in this process). */
  invalidate(): void {
    this.verified?.clear();
    this.unknown?.clear();
  }

  /** The cache key of a credential: a key's SHA-256 (as stored), or `t:` and a token's; null for neither. */
  private hashOf(authorization: string | undefined | null): string | null {
    if (!authorization) return null;
    const credential = bearer(authorization);
    if (parseKeyMode(credential)) return hashKey(credential);
    return this.tokens?.enabled && looksLikeToken(credential) ? `t:${hashKey(credential)}` : null;
  }
}

function bearer(authorization: string): string {
  return authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : authorization.trim();
}
