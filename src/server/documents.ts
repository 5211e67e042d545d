import { createHash } from 'node:crypto';
import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { LRUCache } from 'lru-cache';
import { PARSE_OPTIONS } from '../graphql/limits.js';
import { CODE, type GatewayErrorCode } from '../graphql/error-codes.js';

/** A text that parsed and validated (`errors` empty), or was refused; `key` names the text (SHA-256). */
export type DocumentEntry = { document: DocumentNode; errors: readonly GraphQLError[]; key: string } | { syntaxError: GraphQLError };

/**
 * Parsed and validated documents, shared by every operation with the same query text, over HTTP
 * and WebSocket alike (server/pipeline.ts).
 *
 * A subscription keeps its document (with its token and location objects) for as long as it
 * lives: ≈10 KB per idle subscriber, measured by heap snapshot, and 10,000 dashboards send the
 * same text. Parsing and validating once per text also spares the CPU, and a refused text (a
 * hostile one included) is refused from the cache the next time, not validated again. The
 * compiled plan of a document (graphql/executor.ts) is keyed by the document object, so it goes
 * when its document is evicted.
 *
 * Bounded by bytes, not only by count: an entry is charged its text's length × 16 (a parsed
 * document is roughly 10–20× its text) plus 1 KB; least recently used texts go first.
 */
export class DocumentCache {
  private readonly entries: LRUCache<string, DocumentEntry>;
  /** Texts parsed and validated, and operations that found theirs here (both transports). */
  readonly stats = { parsed: 0, hits: 0 };

  constructor(
    private readonly schema: GraphQLSchema,
    /** The limit rules of graphql/limits.ts with graphql-js's specified rules. */
    private readonly rules: readonly ValidationRule[],
    options: { maxBytes: number; maxEntries: number },
  ) {
    this.entries = new LRUCache({ max: options.maxEntries, maxSize: options.maxBytes, sizeCalculation: (_entry, text) => text.length * 16 + 1_024 });
  }

  get(query: string): DocumentEntry {
    let entry = this.entries.get(query);
    if (entry) {
      this.stats.hits++;
      return entry;
    }
    this.stats.parsed++;
    try {
      const document = parse(query, PARSE_OPTIONS);
      const errors = validate(this.schema, document, this.rules).map((error) => withCode(error, CODE.GRAPHQL_VALIDATION_FAILED));
      entry = { document, errors, key: createHash('sha256').update(query).digest('base64url') };
    } catch (error) {
      entry = { syntaxError: withCode(error as GraphQLError, CODE.GRAPHQL_PARSE_FAILED) };
    }
    this.entries.set(query, entry);
    return entry;
  }
}

/** The codes Apollo gives the same errors, so clients see one vocabulary on both transports. */
function withCode(error: GraphQLError, code: GatewayErrorCode): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
