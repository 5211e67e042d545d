/**
 * A flat copy of a string built by concatenation. V8 keeps such a string as a tree of its pieces
 * (a cons string: 32 bytes a node) until something flattens it; a string kept for a long time,
 * once per subscriber, is cheaper flat (bench/fanout-README.md, memory per idle subscriber).
 * Through UTF-8 and back: exact for every well-formed string (JSON.stringify escapes lone surrogates).
 */
export function flatString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
