import { createHash } from 'node:crypto';

/**
 * Trusted documents (issue 25, part 2): an application registers the operations its frontends
 * ship, and may then refuse any other document. The ids are the GraphQL-over-HTTP persisted
 * documents proposal's form, `sha256:<hex>` of the document's text, which GraphQL Code
 * Generator's client preset writes (`persistedDocuments`, hashAlgorithm sha256) as the keys of its
 * manifest, without the prefix.
 */

/** Who must name a registered document instead of sending one. */
export const DOCUMENTS_POLICIES = ['ANY', 'TRUSTED_FOR_TOKENS', 'TRUSTED_ONLY'] as const;
export type DocumentsPolicy = (typeof DOCUMENTS_POLICIES)[number];

const DOCUMENT_ID = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<hex>` of a document's text (UTF-8), as the client preset hashes it. */
export function documentIdOf(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

export function isDocumentId(value: unknown): value is string {
  return typeof value === 'string' && DOCUMENT_ID.test(value);
}

/** Whether this caller must name a registered document: every caller under TRUSTED_ONLY, access-token holders under TRUSTED_FOR_TOKENS. */
export function mustUseTrustedDocuments(policy: DocumentsPolicy | undefined, isToken: boolean): boolean {
  return policy === 'TRUSTED_ONLY' || (policy === 'TRUSTED_FOR_TOKENS' && isToken);
}

export interface TrustedDocument {
  readonly id: string;
  readonly text: string;
}

/** A manifest the gateway will not take: the message says which entry and why. */
export class ManifestError extends Error {}

/**
 * The documents of a manifest (a JSON object of id → text; ids with or without `sha256:`), each
 * id checked against its text, in the manifest's order. At most `maxDocuments` entries and
 * `maxBytes` per text: the caller's bounds, checked before anything is hashed.
 */
export function documentsOfManifest(manifest: unknown, bounds: { maxDocuments: number; maxBytes: number }): TrustedDocument[] {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new ManifestError('A manifest is a JSON object of document id → document text (persisted-documents.json of the client preset)');
  }
  const entries = Object.entries(manifest as Record<string, unknown>);
  if (entries.length === 0) throw new ManifestError('The manifest has no documents');
  if (entries.length > bounds.maxDocuments) {
    throw new ManifestError(`The manifest has ${entries.length} documents; an application may register at most ${bounds.maxDocuments}`);
  }
  return entries.map(([key, text]) => {
    const id = key.startsWith('sha256:') ? key : `sha256:${key}`;
    const shown = key.slice(0, 80);
    if (!isDocumentId(id)) throw new ManifestError(`${shown}: a document id is sha256:<64 lowercase hex digits> (or the 64 digits alone)`);
    if (typeof text !== 'string' || text.trim() === '') throw new ManifestError(`${shown}: its document is not a non-empty string`);
    if (Buffer.byteLength(text, 'utf8') > bounds.maxBytes) throw new ManifestError(`${shown}: its document is over ${bounds.maxBytes} bytes`);
    if (documentIdOf(text) !== id) throw new ManifestError(`${shown}: the id is not the SHA-256 of its document`);
    return { id, text };
  });
}

/** Where the registered documents are kept. */
export interface TrustedDocumentStore {
  /** The text registered under `id` for the application, or null. */
  find(appId: string, id: string): Promise<string | null>;
}
