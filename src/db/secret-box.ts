import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Sql } from './sql.js';
import type { SecretKey } from '../shared/secret-keys.js';

/**
 * Webhook signing secrets at rest: AES-256-GCM under an operator key (SECRETS_KEY), so a dump
 * of the database alone cannot forge a delivery. SECRETS_KEY lists one or more keys as
 * `id:base64-of-32-bytes`, comma-separated; the first encrypts, every one decrypts, so a new key
 * is put first, `calls-gateway secrets rotate` re-encrypts what is stored, and the old key is
 * then dropped. Stored form: `enc:v1:<key id>:<iv>:<ciphertext+tag>` (base64url). A value
 * without that prefix is a secret stored before encryption (or with no key configured): it is
 * read as it is, and `secrets rotate` encrypts it.
 * node:crypto does this in a few lines; no library needed.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly current: { id: string; key: Buffer } | null;

  constructor(keys: readonly SecretKey[]) {
    this.keys = new Map(keys.map((entry) => [entry.id, entry.key]));
    this.current = keys[0] ?? null;
  }

  get enabled(): boolean {
    return this.current !== null;
  }

  seal(plain: string): string {
    if (!this.current) return plain;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `enc:v1:${this.current.id}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  open(stored: string): string {
    if (!stored.startsWith('enc:v1:')) return stored;
    const [, , id, iv, body] = stored.split(':');
    const key = this.keys.get(id!);
    if (!key) throw new Error(`a webhook secret is sealed with key "${id}", which SECRETS_KEY does not list`);
    const data = Buffer.from(body!, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
  }

  /** Whether `stored` is sealed with the current key (else `secrets rotate` seals it again). */
  isCurrent(stored: string): boolean {
    return this.current !== null && stored.startsWith(`enc:v1:${this.current.id}:`);
  }
}

/** Opens every stored secret with any listed key and seals it with the current one, endpoint by endpoint. */
export async function resealWebhookSecrets(sql: Sql, box: SecretBox): Promise<number> {
  let resealed = 0;
  // The application endpoints' secrets, and the status-callback secrets (a call's own endpoint has none: it signs with its tenant's).
  const tables = [
    {
      select: `SELECT id::text AS id, secret, previous_secret AS previous FROM webhook_endpoint WHERE call_id IS NULL`,
      update: `UPDATE webhook_endpoint SET secret = $2, previous_secret = $3 WHERE id = $1 AND secret = $4`,
    },
    {
      select: `SELECT app_id || '/' || mode AS id, secret, previous_secret AS previous FROM status_callback_secret`,
      update: `UPDATE status_callback_secret SET secret = $2, previous_secret = $3 WHERE app_id || '/' || mode = $1 AND secret = $4`,
    },
  ];
  for (const table of tables) {
    const rows = await sql.query<{ id: string; secret: string; previous: string | null }>(table.select);
    for (const row of rows) {
      if (box.isCurrent(row.secret) && (row.previous === null || box.isCurrent(row.previous))) continue;
      const secret = box.seal(box.open(row.secret));
      const previous = row.previous === null ? null : box.seal(box.open(row.previous));
      await sql.query(table.update, [row.id, secret, previous, row.secret]);
      resealed++;
    }
  }
  return resealed;
}
