import { LRUCache } from 'lru-cache';
import type { TrustedDocumentStore } from '../domain/trusted-documents.js';

/**
 * The registered documents a gateway has looked up (domain/trusted-documents.ts), so a request
 * that names one costs no round trip once its text is here; its parse and validation are then the
 * document cache's (documents.ts), keyed by that text.
 *
 * Bounded: texts found are kept in an LRU by bytes, ids not found in a second LRU (so a flood of
 * made-up ids, already capped by the caller's rate limit, cannot push the real ones out). A text
 * never changes under its id; a document removed (`documents push --replace`) is forgotten within
 * `ttlMs`, and an id not found is asked again after at most 2 s, so a push is seen at once by the
 * next request that needs it.
 */
export class TrustedDocuments {
  private readonly found: LRUCache<string, { text: string }>;
  private readonly missing: LRUCache<string, true>;

  constructor(
    private readonly store: TrustedDocumentStore,
    options: { ttlMs: number; maxEntries: number; maxBytes: number },
  ) {
    const ttl = Math.max(1, options.ttlMs);
    this.found = new LRUCache({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      ttl,
      sizeCalculation: (entry, key) => entry.text.length * 2 + key.length + 64,
    });
    this.missing = new LRUCache({ max: options.maxEntries, ttl: Math.min(ttl, 2_000) });
  }

  /** The text the application registered under `id`, or null. */
  async find(appId: string, id: string): Promise<string | null> {
    const key = `${appId}/${id}`;
    const hit = this.found.get(key);
    if (hit) return hit.text;
    if (this.missing.has(key)) return null;
    const text = await this.store.find(appId, id);
    if (text === null) this.missing.set(key, true);
    else this.found.set(key, { text });
    return text;
  }
}
