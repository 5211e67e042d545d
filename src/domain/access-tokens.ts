import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { CallFilter } from './call-store.js';
import type { Mode } from './call.js';
import { InvalidArgumentError, UserErrorCode, userError, type UserError } from './errors.js';
import { validateFilter } from './call-validation.js';
import { validateAddress } from './addresses.js';
import { Channel } from './call.js';
import type { AccessTokenKeys } from '../shared/access-token-keys.js';

/** What an access token lets its holder do (a secret key may do everything). */
export enum AccessScope {
  /** call, node, calls, callStats (and Call's fields, recordings included). */
  CALLS_READ = 'CALLS_READ',
  /** callStatus. */
  STATUS_SUBSCRIBE = 'STATUS_SUBSCRIBE',
  /** createCall; the call must match the token's filter. */
  CALLS_CREATE = 'CALLS_CREATE',
  /** Commands on calls the token sees (answer, hangup, hold, mute, DTMF, recording, transfer, voicemail, a room join token). */
  CALLS_COMMAND = 'CALLS_COMMAND',
}

const SCOPES = new Set<string>(Object.values(AccessScope));

const TOKEN_TTL = { min: 60, max: 24 * 60 * 60, default: 60 * 60 } as const;
/** A token's filter, as JSON: it travels in every request's header, so it stays small. */
const MAX_FILTER_BYTES = 2048;
/** Longer than any token this gateway signs (the filter's cap and the claims): refused unread. */
const MAX_TOKEN_LENGTH = 4096;
const ISSUER = 'calls-gateway';

/** The HMAC keys tokens are signed with: the first signs, every one verifies (by `kid`), so a key can be rotated in. */
/** What a verified token grants: its application and mode, the key that issued it, its scopes and filter. */
export interface TokenGrant {
  /** The token's own id (jti): what its WebSocket caps are counted by. */
  id: string;
  appId: string;
  mode: Mode;
  /** The API key the token was minted with: revoking it ends the token. */
  keyId: string;
  scopes: ReadonlySet<AccessScope>;
  /** ANDed into everything the holder reads, subscribes to or creates. */
  filter: CallFilter | null;
  /** The only identity the holder may join a call's room as (createCallToken); null: any but the call's own parties. */
  participantIdentity: string | null;
  expiresAt: Date;
}

/**
 * Identities the gateway gives the legs it brings into a room (`sip:+1…`, `whatsapp:+1…`, and
 * LiveKit's `sip_+1…` for a caller a dispatch rule admits): a token holder never takes them.
 */
export function isLegIdentity(identity: string): boolean {
  return /^(sip[:_]|whatsapp[:_])/i.test(identity);
}

/** Why a leg's identity is refused (IDENTITY_NOT_ALLOWED), at minting and at createCallToken. */
export const LEG_IDENTITY_REFUSED = 'sip:, sip_ and whatsapp: identities are the legs the gateway dials, not a browser';

export interface IssueTokenInput {
  scopes: readonly AccessScope[];
  filter?: CallFilter | null;
  ttlSeconds?: number | null;
  participantIdentity?: string | null;
}

/** Tokens look like JWTs (three base64url parts, a JSON header): anything else is not tried as one. */
export function looksLikeToken(credential: string): boolean {
  return credential.startsWith('eyJ') && credential.length <= MAX_TOKEN_LENGTH && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential);
}

/**
 * Short-lived, scoped credentials a backend mints (with its secret key) for a browser, as Stripe's
 * ephemeral keys and Twilio's access tokens: a JWT signed with HS256 (jose), carrying the
 * application, mode, scopes, a CallFilter and the issuing key's id. The gateway is both issuer
 * and verifier, so a shared-secret MAC is enough; the `kid` header names the key, so a new key
 * can sign while the old ones still verify until their tokens have expired (24 h at most).
 *
 * Verification is local (no database); the authenticator then checks that the issuing key is
 * still active (domain/authenticator.ts), with the same cache bound as a key.
 */
export class AccessTokens {
  private readonly byKid: Map<string, Uint8Array>;

  constructor(private readonly keys: AccessTokenKeys | null) {
    this.byKid = new Map((keys?.keys ?? []).map((key) => [key.kid, key.secret]));
  }

  get enabled(): boolean {
    return this.byKid.size > 0;
  }

  /** Problems with the request, each with its path under `input`. */
  problems(input: IssueTokenInput): UserError[] {
    const problems: UserError[] = [];
    if (!this.enabled) {
      problems.push(userError(UserErrorCode.ACCESS_TOKENS_NOT_CONFIGURED, null, 'Access tokens are not configured here (ACCESS_TOKEN_KEYS)'));
    }
    if (input.scopes.length === 0 || input.scopes.some((scope) => !SCOPES.has(scope))) {
      problems.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'scopes'], 'Give at least one scope'));
    }
    const ttl = input.ttlSeconds ?? TOKEN_TTL.default;
    if (!Number.isInteger(ttl) || ttl < TOKEN_TTL.min || ttl > TOKEN_TTL.max) {
      problems.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'ttlSeconds'], `ttlSeconds must be ${TOKEN_TTL.min} to ${TOKEN_TTL.max}`));
    }
    if (input.participantIdentity != null) {
      const field = ['input', 'participantIdentity'];
      const invalid = validateAddress(input.participantIdentity, Channel.WEBRTC, field);
      if (invalid) problems.push(invalid);
      else if (isLegIdentity(input.participantIdentity)) problems.push(userError(UserErrorCode.IDENTITY_NOT_ALLOWED, field, LEG_IDENTITY_REFUSED));
    }
    if (input.filter && Buffer.byteLength(JSON.stringify(input.filter)) > MAX_FILTER_BYTES) {
      problems.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'filter'], `A token's filter must be at most ${MAX_FILTER_BYTES} bytes as JSON`));
    }
    return problems;
  }

  /** createAccessToken: checked (the filter as `calls` checks one), then signed; nothing is stored. */
  async create(
    issuer: { appId: string; mode: Mode; keyId: string },
    input: IssueTokenInput,
  ): Promise<{ token: string | null; expiresAt: Date | null; userErrors: UserError[] }> {
    let filter: CallFilter | null = null;
    const problems = this.problems(input);
    try {
      filter = input.filter ? withoutNulls(validateFilter(input.filter)) : null;
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      problems.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', ...error.argument.split('.')], error.message));
    }
    if (problems.length) return { token: null, expiresAt: null, userErrors: problems };
    return { ...(await this.issue(issuer, { ...input, filter })), userErrors: [] };
  }

  /** Signs a token for `issuer` (the secret key's owner); `problems(input)` must be empty. */
  async issue(issuer: { appId: string; mode: Mode; keyId: string }, input: IssueTokenInput, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
    const signing = this.keys?.keys[0];
    if (!signing) throw new Error('access tokens are not configured');
    const ttl = input.ttlSeconds ?? TOKEN_TTL.default;
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAt = new Date((issuedAt + ttl) * 1000);
    const scopes = [...new Set(input.scopes)].sort();
    const token = await new SignJWT({
      mode: issuer.mode,
      key: issuer.keyId,
      scp: scopes,
      ...(hasAny(input.filter) ? { flt: input.filter } : {}),
      ...(input.participantIdentity != null ? { pid: input.participantIdentity } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', kid: signing.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(issuer.appId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttl)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(signing.secret);
    return { token, expiresAt };
  }

  /** The grant of a genuine, unexpired token signed with a known key; null for anything else. */
  async verify(token: string): Promise<TokenGrant | null> {
    if (!this.enabled || !looksLikeToken(token)) return null;
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const secret = header.kid !== undefined ? this.byKid.get(header.kid) : undefined;
          if (!secret) throw new joseErrors.JWKSNoMatchingKey();
          return secret;
        },
        { algorithms: ['HS256'], issuer: ISSUER, requiredClaims: ['sub', 'exp', 'iat', 'jti'] },
      );
      const { sub, mode, key, scp, flt, pid, exp, jti } = payload as Record<string, unknown>;
      if (pid !== undefined && typeof pid !== 'string') return null;
      if (typeof sub !== 'string' || (mode !== 'test' && mode !== 'live') || typeof key !== 'string' || typeof exp !== 'number' || typeof jti !== 'string')
        return null;
      if (!Array.isArray(scp) || scp.some((scope) => typeof scope !== 'string' || !SCOPES.has(scope))) return null;
      return {
        id: jti,
        appId: sub,
        mode,
        keyId: key,
        scopes: new Set(scp as AccessScope[]),
        filter: flt && typeof flt === 'object' ? reviveFilter(flt as Record<string, unknown>) : null,
        participantIdentity: pid ?? null,
        expiresAt: new Date(exp * 1000),
      };
    } catch {
      return null;
    }
  }
}

/** The filter as a plain object without its unset fields (an input object has every field, null when not given). */
function withoutNulls(filter: CallFilter): CallFilter {
  return JSON.parse(JSON.stringify(filter, (_key, value: unknown) => (value === null ? undefined : value))) as CallFilter;
}

function hasAny(filter: CallFilter | null | undefined): filter is CallFilter {
  return !!filter && Object.values(filter).some((value) => value != null);
}

/** The filter as it was signed: JSON turned the Dates into strings. */
function reviveFilter(raw: Record<string, unknown>): CallFilter {
  const filter = { ...raw } as Record<string, unknown>;
  for (const field of ['createdAfter', 'createdBefore']) if (typeof filter[field] === 'string') filter[field] = new Date(filter[field] as string);
  for (const field of ['startedAt', 'answeredAt', 'endedAt']) {
    const range = filter[field] as { from?: unknown; to?: unknown } | null | undefined;
    if (range && typeof range === 'object') {
      filter[field] = {
        from: typeof range.from === 'string' ? new Date(range.from) : null,
        to: typeof range.to === 'string' ? new Date(range.to) : null,
      };
    }
  }
  return filter as CallFilter;
}
