import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { PARSE_OPTIONS } from '../graphql/limits.js';

/**
 * Parsed and validated documents, shared by every operation with the same query text.
 *
 * graphql-ws parses every subscribe message, and a subscription keeps its document (with its
 * token and location objects) for as long as it lives: ≈10 KB per idle subscriber, measured by
 * heap snapshot, and 10,000 dashboards send the same text. Parsing and validating once per text
 * also spares the CPU. Least recently used texts are evicted past `max`.
 */
export class DocumentCache {
  private readonly entries = new Map<string, { document: DocumentNode; errors: readonly GraphQLError[] } | { syntaxError: GraphQLError }>();

  constructor(
    private readonly schema: GraphQLSchema,
    /** The same rules as over HTTP (graphql/limits.ts): graphql-ws runs none of Apollo's. */
    private readonly rules: readonly ValidationRule[],
    private readonly max = 1_000,
  ) {}

  get(query: string): { document: DocumentNode; errors: readonly GraphQLError[] } | { syntaxError: GraphQLError } {
    let entry = this.entries.get(query);
    if (entry) {
      // Refresh its place: Map keeps insertion order, so the first key is the least recent.
      this.entries.delete(query);
    } else {
      try {
        const document = parse(query, PARSE_OPTIONS);
        entry = { document, errors: validate(this.schema, document, this.rules).map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')) };
      } catch (error) {
        entry = { syntaxError: withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED') };
      }
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(query, entry);
    return entry;
  }
}

/** The codes Apollo gives the same errors over HTTP, so clients see one vocabulary on both transports. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
