import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Mode } from './call.js';

/**
 * API keys: `sk_test_app_<secret>` / `sk_live_app_<secret>`: 26 random base62 characters
 * (~154 bits) then a 6-character checksum (CRC-32 of everything before it, base62), as GitHub's
 * tokens do: a typo is refused without a database lookup, and a secret scanner can tell a leaked
 * key from random text with almost no false positives. Only the SHA-256 of the whole key is
 * stored, with a short display prefix, so a database dump holds nothing that authenticates.
 * SHA-256 (not a slow KDF) is right here because the secret is random and long: there is
 * nothing to brute-force.
 */
const KEY_PATTERN = /^sk_(test|live)_app_([0-9A-Za-z]{32})$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface GeneratedKey {
  key: string;
  hash: string;
  /** What may be shown later to recognise the key: mode prefix and first characters. */
  displayPrefix: string;
}

function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: rejecting bytes above it keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** CRC-32 of the key's body, as 6 base62 characters (62^6 > 2^32). */
function checksum(body: string): string {
  let value = crc32(body) >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

export function generateKey(mode: Mode): GeneratedKey {
  const body = `sk_${mode}_app_${base62(26)}`;
  const key = `${body}${checksum(body)}`;
  return { key, hash: hashKey(key), displayPrefix: key.slice(0, 'sk_test_app_'.length + 6) };
}

/** The mode a key claims, or null when it is not shaped like a key or its checksum fails (no lookup needed). */
export function parseKeyMode(key: string): Mode | null {
  const match = KEY_PATTERN.exec(key);
  if (!match || checksum(key.slice(0, -6)) !== key.slice(-6)) return null;
  return match[1] as Mode;
}
