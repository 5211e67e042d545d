import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The keys access tokens are signed (the first) and verified (all) with. */
export interface AccessTokenKeys {
  readonly keys: readonly { kid: string; secret: Uint8Array }[];
}

/**
 * ACCESS_TOKEN_KEYS: `kid:secret[,kid:secret…]`, the first signing. A kid is 1–32 letters,
 * digits, `_` or `-`; a secret at least 32 characters (HS256 wants 256 bits).
 */
export function parseAccessTokenKeys(raw: string): AccessTokenKeys {
  const keys = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const colon = part.indexOf(':');
      const kid = part.slice(0, colon);
      const secret = part.slice(colon + 1);
      if (colon < 1 || !/^[\w-]{1,32}$/.test(kid)) throw new Error(`must be kid:secret pairs with kids of 1 to 32 letters, digits, _ or -`);
      if (secret.length < 32) throw new Error(`the secret of kid "${kid}" must be at least 32 characters`);
      return { kid, secret: new TextEncoder().encode(secret) };
    });
  if (keys.length === 0) throw new Error('must name at least one kid:secret');
  if (new Set(keys.map((key) => key.kid)).size !== keys.length) throw new Error('names a kid twice');
  return { keys };
}

/**
 * The keys access tokens are signed and verified with: ACCESS_TOKEN_KEYS when set. Without it,
 * DATA_DIR/access-token.key (mode 0600): outside production it is generated on first use, so
 * `npm start` and the CLI on this machine share one key (the CLI runs as production unless
 * NODE_ENV says otherwise, and still finds it); in production it is only read, never made, so a
 * deployment without ACCESS_TOKEN_KEYS and without that file has none (createAccessToken says it
 * is not configured, and no token is accepted: every process must share the keys, so they are the
 * operator's to give).
 */
export function resolveAccessTokenKeys(config: { accessTokenKeys: AccessTokenKeys | null; production: boolean; dataDir: string }): AccessTokenKeys | null {
  if (config.accessTokenKeys) return config.accessTokenKeys;
  const file = path.resolve(config.dataDir, 'access-token.key');
  try {
    return parseAccessTokenKeys(readFileSync(file, 'utf8'));
  } catch {
    if (config.production) return null;
    mkdirSync(path.dirname(file), { recursive: true });
    // Written whole under another name, then linked: two processes starting at once agree on one key.
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temporary, `dev:${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    try {
      linkSync(temporary, file);
    } catch {
      // Another process linked its key first.
    } finally {
      unlinkSync(temporary);
    }
    return parseAccessTokenKeys(readFileSync(file, 'utf8'));
  }
}
