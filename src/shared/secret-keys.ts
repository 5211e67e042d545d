/** One key of SECRETS_KEY: an id, and 32 bytes for AES-256-GCM (db/secret-box.ts seals with them). */
export interface SecretKey {
  readonly id: string;
  readonly key: Buffer;
}

/** Parses SECRETS_KEY (`id:base64-32-bytes[,id:key…]`, the first seals); throws with a message naming what is wrong. */
export function parseSecretKeys(raw: string): SecretKey[] {
  const keys = raw.split(',').map((part) => {
    const [id, encoded, ...rest] = part.trim().split(':');
    const key = encoded ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || rest.length || key.length !== 32) {
      throw new Error(
        'must be comma-separated id:key pairs, each key 32 random bytes in base64 (openssl rand -base64 32), the id 1-32 letters, digits, _ or -',
      );
    }
    return { id, key };
  });
  if (new Set(keys.map((key) => key.id)).size !== keys.length) throw new Error('names a key id twice');
  return keys;
}
