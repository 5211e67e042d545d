import { createHash } from 'node:crypto';
import type { CallOptions, Metadata } from './call.js';

/** Same key + same input means a replay; the fingerprint is what "same input" compares. */
export function fingerprint(input: { from: string; to: string; fromChannel: string; toChannel: string }, metadata: Metadata, options: CallOptions): string {
  // Options only when given: the fingerprints of calls stored before options existed stay the same.
  const parts = [input.from, input.to, input.fromChannel, input.toChannel, canonicalJson(metadata)];
  if (Object.keys(options).length > 0) parts.push(canonicalJson(options));
  const canonical = JSON.stringify(parts);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * JSON with object keys sorted at every depth, so key order does not change the fingerprint.
 * Hand-written rather than a stable-stringify package: those order integer-like keys ("10", "9")
 * by code unit where this (through Object.fromEntries) puts them first in numeric order, so
 * switching would change the fingerprints of idempotency keys already stored, and a client's
 * honest retry would be refused as IDEMPOTENCY_KEY_REUSED.
 */
function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((key) => [key, canonicalJson((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
