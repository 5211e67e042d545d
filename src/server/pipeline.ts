import { randomUUID } from 'node:crypto';
import { flatString } from '../shared/flat-string.js';
import {
  GraphQLError,
  getOperationAST,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Authenticator, Principal } from '../domain/authenticator.js';
import type { GatewayContext } from '../graphql/context.js';
import { forbidden, formatGatewayError, operationResolutionFailure, rateLimited, unauthenticated } from '../graphql/errors.js';
import type { CorsPolicy } from './cors.js';
import type { Executor } from '../graphql/executor.js';
import { allValidationRules } from '../graphql/limits.js';
import { scopeRefusal } from '../graphql/access.js';
import type { SocketOperation } from '../graphql/shared-execution.js';
import { DocumentCache, type DocumentEntry } from './documents.js';
import type { Logger } from '../domain/logger.js';
import type { OperationRecord, Operations } from './operations.js';
import type { KeyRateLimiter } from './rate-limit.js';
import { CODE, gatewayError, statusOf } from '../graphql/error-codes.js';
import { isDocumentId, mustUseTrustedDocuments } from '../domain/trusted-documents.js';
import type { TrustedDocuments } from './trusted-documents.js';
import { trace } from '@opentelemetry/api';
import { tracing } from '../shared/tracing.js';
import { describeOperation } from './operation-spans.js';

/** A context that went through the pipeline's document step: its document is already validated. */
export type PreparedContext = GatewayContext & { prepared?: DocumentEntry };

/**
 * One operation's path from text to result, the same for HTTP and WebSocket. The transports are
 * thin adapters over it (server/http-graphql.ts and Apollo Server for HTTP, server/ws.ts, the
 * gateway's own graphql-transport-ws server, for WebSocket):
 *
 * 1. who is asking: `authenticate` (the key, cached; per request over HTTP, per connection over
 *    WebSocket, where it is re-checked on a timer by ws-guard.ts);
 * 2. may they: `admit` (the key's rate limit: every HTTP request, every WebSocket subscribe);
 * 3. the document: `prepare`, parsed and validated once per text (documents.ts, one LRU bounded
 *    by bytes for both transports, refusals included), with the limit rules of graphql/limits.ts;
 * 4. execution: `executor` (graphql-jit compiled once per document, or graphql-js), for queries,
 *    mutations and each subscription event;
 * 5. what the client sees: `formatError` (masking in production) and `logFailures` (the detail
 *    of an unexpected error goes to the log with the request id);
 * 6. one log line and the metrics: `record` (server/operations.ts).
 *
 * Over HTTP, a plain query or mutation runs steps 4–6 in `executeHttp`, answered by the HTTP
 * adapter without Apollo Server (server/http-graphql.ts says which requests, and why). Apollo
 * Server keeps the rest of the GraphQL-over-HTTP protocol (GET, extensions, content negotiation
 * beyond JSON, variable coercion errors) and is the reference the direct answers are tested
 * against: through `apolloPlugin()` it takes the document from step 3 (it neither parses nor
 * validates: its own document store is off), runs step 4 through its gateway executor hook
 * (apollo-executor.ts) and records through step 6.
 */
export class OperationPipeline {
  readonly documents: DocumentCache;
  /** Operations that reached execution (resolvers), over both transports. */
  executions = 0;
  /** POST /graphql requests answered by executeHttp, and those Apollo Server answered (server/http-graphql.ts). */
  readonly httpStats = { direct: 0, apollo: 0 };

  constructor(
    private readonly options: {
      schema: GraphQLSchema;
      production: boolean;
      logger: Logger;
      authenticator: Authenticator;
      rateLimiter: KeyRateLimiter;
      operations: Operations;
      executor: Executor;
      contextFor: (principal: Principal, requestId: string, socketOperation?: SocketOperation) => GatewayContext;
      /** The document cache's bounds (DOCUMENT_CACHE_ENTRIES, DOCUMENT_CACHE_BYTES). */
      documentCache: { maxEntries: number; maxBytes: number };
      /** The browser origins each application allows (server/cors.ts). */
      cors: CorsPolicy;
      /** The documents applications registered (server/trusted-documents.ts). */
      trustedDocuments: TrustedDocuments;
    },
  ) {
    this.documents = new DocumentCache(options.schema, allValidationRules(options.production), options.documentCache);
  }

  get executor(): Executor {
    return this.options.executor;
  }

  /** Step 1: the principal of a key, or the error to answer with (401, or 429 for an address blocked after failures). */
  async authenticate(address: string | undefined, authorization: string | undefined): Promise<Principal | GraphQLError> {
    const auth = await this.options.authenticator.authenticateFrom(address, authorization);
    if ('refused' in auth)
      return auth.refused === 'blocked' ? rateLimited(auth.retryAfter, 'Too many failed authentications from this address') : unauthenticated();
    return auth.principal;
  }

  /** Step 2: null when the key may run one more operation, else RATE_LIMITED with its retry-after. */
  async admit(principal: Principal): Promise<GraphQLError | null> {
    const retryAfter = await this.options.rateLimiter.consume(principal.keyId, principal.token?.id);
    return retryAfter === null ? null : rateLimited(retryAfter);
  }

  /**
   * Steps 1 and 2 for one HTTP request: its context, or throws the error to answer with. A
   * request from another browser origin (`origin`, see CorsPolicy.foreignOrigin) runs only if
   * the application of its key or token allows that origin: else 403, and nothing runs.
   */
  async contextForRequest(
    address: string | undefined,
    authorization: string | undefined,
    requestIdHeader: string | string[] | undefined,
    origin?: string,
  ): Promise<GatewayContext> {
    const principal = await this.authenticate(address, authorization);
    if (principal instanceof GraphQLError) throw principal;
    if (origin !== undefined) await this.checkOrigin(principal, origin);
    const refused = await this.admit(principal);
    if (refused) throw refused;
    const requestId = typeof requestIdHeader === 'string' ? requestIdHeader.slice(0, 64) : randomUUID();
    return this.options.contextFor(principal, requestId);
  }

  /** Throws FORBIDDEN when `origin` (a foreign browser origin) is not one the principal's application allows. */
  async checkOrigin(principal: Principal, origin: string | undefined): Promise<void> {
    if (origin === undefined || (await this.options.cors.appAllows(principal.appId, origin))) return;
    throw forbidden(`The origin ${origin.slice(0, 200)} is not allowed for this application: calls-gateway apps origins --app ${principal.appId} --set …`);
  }

  /** A WebSocket operation's context (its socket was authenticated at connection_init, its rate limit checked on subscribe). */
  contextForSocket(principal: Principal, socketOperation: SocketOperation): GatewayContext {
    // A flat copy of the id: randomUUID() returns a string of ~30 concatenated pieces, which a
    // subscription's context would keep for its whole life (≈0.2 KB per idle subscriber).
    return this.options.contextFor(principal, flatString(randomUUID()), socketOperation);
  }

  /**
   * Whether the request's text must come from the registered documents (step 3a, `source`): it
   * names one (`documentId`), or its application's policy takes nothing else from this caller. A
   * property read for everyone else: the common request does not wait here.
   */
  needsSource(principal: Principal, documentId: unknown): boolean {
    return documentId != null || mustUseTrustedDocuments(principal.documentsPolicy, principal.token !== undefined);
  }

  /**
   * Step 3a, before any parsing: the registered text `documentId` names for the caller's
   * application (PERSISTED_DOCUMENT_NOT_FOUND when none), or the refusal of a request that sent a
   * document of its own where the policy takes only registered ones (PERSISTED_DOCUMENT_REQUIRED).
   * Both at once is a malformed request (BAD_REQUEST), as is an id not of the form sha256:<hex>.
   */
  async source(principal: Principal, documentId: unknown, query: unknown): Promise<string | GraphQLError> {
    if (documentId == null) {
      return gatewayError(
        CODE.PERSISTED_DOCUMENT_REQUIRED,
        `This application takes only registered documents${principal.token ? ' from access tokens' : ''}: send documentId (sha256:<hex> of a document pushed with calls-gateway documents push), not the document`,
      );
    }
    if (query != null && query !== '') return gatewayError(CODE.BAD_REQUEST, 'Send either documentId or query, not both');
    if (!isDocumentId(documentId))
      return gatewayError(CODE.BAD_REQUEST, 'documentId is sha256: followed by the 64 lowercase hex digits of the SHA-256 of the document');
    const text = await this.options.trustedDocuments.find(principal.appId, documentId);
    return text ?? gatewayError(CODE.PERSISTED_DOCUMENT_NOT_FOUND, `No document ${documentId} is registered for this application`);
  }

  /** Step 3: the validated document of a text, or its refusal (GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED). */
  prepare(query: string): DocumentEntry {
    return this.documents.get(query);
  }

  /**
   * Step 3 and what follows from it, the same on every transport (POST, GET through Apollo,
   * WebSocket subscribe): the validated document (GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED,
   * 400), the operation it runs (graphql-js's rule, in Apollo's words: OPERATION_RESOLUTION_FAILURE,
   * 400), then an access token's scopes on that operation (FORBIDDEN, 403). The operation is
   * resolved before anything is cached for it, so no cache is keyed by a name the client chose.
   */
  admitDocument(
    principal: Principal | undefined,
    query: string,
    operationName: string | null | undefined,
  ): { entry: Extract<DocumentEntry, { document: DocumentNode }>; operation: OperationDefinitionNode } | { errors: readonly GraphQLError[]; status: number } {
    const entry = this.prepare(query);
    if ('syntaxError' in entry) return { errors: [entry.syntaxError], status: 400 };
    if (entry.errors.length > 0) return { errors: entry.errors, status: 400 };
    const operation = getOperationAST(entry.document, operationName ?? undefined);
    const refused = this.admitOperation(principal, entry.document, operation, operationName);
    if (refused) return { errors: [refused], status: statusOf(refused) };
    return { entry, operation: operation! };
  }

  /**
   * The steps after the document: the operation resolved (else OPERATION_RESOLUTION_FAILURE), then
   * an access token's scopes on it (else FORBIDDEN). Also Apollo's (GET), which resolves the
   * operation itself and hands it here before anything runs.
   */
  admitOperation(
    principal: Principal | undefined,
    document: DocumentNode,
    operation: OperationDefinitionNode | null | undefined,
    operationName: string | null | undefined,
  ): GraphQLError | null {
    if (!operation) return operationResolutionFailure(operationName);
    return scopeRefusal(this.options.schema, principal, document, operation);
  }

  /** Step 5: the one place errors become what clients see (graphql/errors.ts). */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    return formatGatewayError(formatted, error, this.options.production);
  }

  /** Step 5: unexpected errors (no code, or INTERNAL_SERVER_ERROR) go to the log with the request id. */
  logFailures(errors: readonly GraphQLError[], requestId: string | undefined, operationName: string | null): void {
    for (const error of errors) {
      const code = error.extensions?.code;
      if (code && code !== CODE.INTERNAL_SERVER_ERROR) continue;
      if (error.originalError && 'argument' in error.originalError) continue;
      this.options.logger.error('operation failed', { requestId, operation: operationName, error: String(error.originalError?.stack ?? error.stack ?? error) });
    }
  }

  /** Step 6. */
  record(operation: OperationRecord): void {
    this.options.operations.record(operation);
  }

  /** Step 6 for an operation refused before it ran (document, limits, rate limit), on either transport. */
  recordRefusal(refusal: Pick<OperationRecord, 'transport' | 'operationName' | 'requestId' | 'principal' | 'errorCodes' | 'seconds'>): void {
    this.record({ ...refusal, operation: undefined, data: undefined });
  }

  /**
   * Steps 4, 5 and 6 for one query or mutation over HTTP, without Apollo Server
   * (server/http-graphql.ts): the result, its errors formatted as Apollo formats them
   * (normalizeAndFormatErrors: a code on every error, `extensions.http` lifted into the response's
   * status and headers, the stack trace outside production, then formatError), logged, counted
   * and recorded. `null` when nothing ran because the variables could not be coerced (graphql-js's
   * own check, before any resolver): Apollo then answers it (400, BAD_USER_INPUT) with its own
   * messages, and records it. Fast path and reference: this beside Apollo Server, held together
   * byte for byte by test/http-paths.test.ts (and CI's third run, GRAPHQL_HTTP=apollo).
   */
  async executeHttp(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | undefined,
    context: GatewayContext,
    started: bigint,
  ): Promise<{ body: string; status: number; headers: Map<string, string> } | null> {
    const operationName = operation.name?.value ?? null;
    let result: ExecutionResult;
    let status = 200;
    try {
      result = await this.options.executor({ schema: this.options.schema, document, operationName, variableValues: variables, contextValue: context });
      if (result.data === undefined) return null;
    } catch (error) {
      // As Apollo: an executor that throws is a 500 with that error.
      result = { errors: [ensureGraphQLError(error)] };
      status = 500;
    }
    this.executions++;
    this.httpStats.direct++;
    const headers = new Map<string, string>();
    let formatted: GraphQLFormattedError[] | undefined;
    if (result.errors) {
      this.logFailures(result.errors, context.requestId, operationName);
      formatted = result.errors.map((error) => {
        try {
          const enriched = this.enrich(error);
          const http = enriched.extensions?.http as { status?: number; headers?: Map<string, string> } | undefined;
          if (http && typeof http === 'object') {
            if (typeof http.status === 'number') status = http.status;
            if (http.headers instanceof Map) for (const [name, value] of http.headers) headers.set(name, value);
            delete (enriched.extensions as Record<string, unknown>).http;
          }
          return this.formatError(enriched, error);
        } catch (formattingError) {
          return this.options.production
            ? { message: 'Internal server error', extensions: { code: CODE.INTERNAL_SERVER_ERROR } }
            : this.enrich(formattingError);
        }
      });
    }
    this.record({
      transport: 'http',
      operation,
      operationName,
      requestId: context.requestId,
      principal: context.principal,
      data: result.data,
      // The codes as the client sees them (formatted: BAD_USER_INPUT, RATE_LIMITED …), as WebSocket records them.
      errorCodes: formatted?.map((error) => error.extensions?.code),
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    });
    // Apollo's order (errors, data, extensions) and its stringifier (JSON and a newline).
    const body = `${JSON.stringify({ errors: formatted, data: result.data, extensions: result.extensions })}\n`;
    return { body, status, headers };
  }

  /** Apollo's enrichError: a GraphQLError's JSON with a code (INTERNAL_SERVER_ERROR by default) and, outside production, its stack. */
  private enrich(error: unknown): GraphQLFormattedError & { extensions: Record<string, unknown> } {
    const graphqlError = ensureGraphQLError(error);
    const extensions: Record<string, unknown> = { ...graphqlError.extensions, code: graphqlError.extensions.code ?? CODE.INTERNAL_SERVER_ERROR };
    if (!this.options.production) extensions.stacktrace = graphqlError.stack?.split('\n');
    return { ...graphqlError.toJSON(), extensions };
  }

  /** The HTTP refusal of an operation (source's or admitDocument's), as Apollo answers one: its status and body; recorded (step 6). */
  refusal(
    refused: { errors: readonly GraphQLError[]; status: number },
    request: { operationName: string | null; requestId: string; principal: Principal; started: bigint },
  ): { status: number; body: string } {
    const errors = this.clientErrors(refused.errors);
    this.recordRefusal({
      transport: 'http',
      operationName: request.operationName,
      requestId: request.requestId,
      principal: request.principal,
      errorCodes: errors.map((error) => error.extensions?.code),
      seconds: Number(process.hrtime.bigint() - request.started) / 1e9,
    });
    return { status: refused.status, body: `${JSON.stringify({ errors })}\n` };
  }

  /** Errors as a client sees them, without the HTTP status and headers they carry for the transport (as Apollo strips `extensions.http`). */
  clientErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    return errors.map((error) => {
      const json = error.toJSON();
      if (json.extensions && 'http' in json.extensions) {
        const { http: _http, ...extensions } = json.extensions;
        return this.formatError({ ...json, extensions }, error);
      }
      return this.formatError(json, error);
    });
  }

  /** Apollo Server's side of steps 3, 4, 5 and 6 (see the class comment). */
  apolloPlugin(): ApolloServerPlugin<GatewayContext> {
    // Apollo calls the hooks as methods of the plugin object, so `this` there is not the pipeline.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const pipeline = this;
    return {
      // The key, its origin or its rate limit refused (the context was not made): POST and GET alike.
      async contextCreationDidFail({ error }) {
        pipeline.recordRefusal({
          transport: 'http',
          operationName: null,
          requestId: undefined,
          principal: undefined,
          errorCodes: [(error as GraphQLError).extensions?.code ?? CODE.INTERNAL_SERVER_ERROR],
          seconds: 0,
        });
      },
      async requestDidStart() {
        const started = process.hrtime.bigint();
        return {
          async didResolveSource(requestContext) {
            // Validated by the HTTP adapter before Apollo ran (POST), or here from the same cache
            // (GET). A refused text is left to Apollo, which refuses it with the same rules.
            const query = requestContext.request.query;
            const prepared = (requestContext.contextValue as PreparedContext).prepared ?? (typeof query === 'string' ? pipeline.prepare(query) : undefined);
            if (prepared && 'document' in prepared && prepared.errors.length === 0) (requestContext as { document?: unknown }).document = prepared.document;
          },
          async didResolveOperation({ contextValue, document, operation, request, queryHash }) {
            // The operation and an access token's scopes (GET, and anything else Apollo answers), before execution.
            const refused = pipeline.admitOperation(contextValue?.principal, document, operation, request.operationName);
            if (refused) throw refused;
            // GET's span (parts/http.ts) learns its operation here; POST's did in the HTTP adapter.
            const span = tracing.on && request.http?.method === 'GET' ? trace.getActiveSpan() : undefined;
            if (span && operation && contextValue?.principal) describeOperation(span, operation, queryHash, contextValue.principal);
          },
          async executionDidStart() {
            pipeline.executions++;
          },
          async didEncounterErrors({ contextValue, errors, operationName }) {
            pipeline.logFailures(errors, contextValue?.requestId, operationName ?? null);
          },
          async willSendResponse({ contextValue, operation, operationName, response, errors }) {
            pipeline.record({
              transport: 'http',
              operation,
              operationName: operationName ?? null,
              requestId: contextValue?.requestId,
              principal: contextValue?.principal,
              data: response.body.kind === 'single' ? response.body.singleResult.data : undefined,
              // The codes as the client sees them (formatted), as the direct path and WebSocket record them.
              errorCodes:
                response.body.kind === 'single' && response.body.singleResult.errors
                  ? response.body.singleResult.errors.map((error) => error.extensions?.code)
                  : errors?.map((error) => error.extensions?.code),
              seconds: Number(process.hrtime.bigint() - started) / 1e9,
            });
          },
        };
      },
    };
  }
}

/** Apollo's ensureGraphQLError: anything thrown, as a GraphQLError. */
function ensureGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const cause = error instanceof Error ? error : new GraphQLError(`Unexpected error value: ${String(error)}`);
  return cause instanceof GraphQLError ? cause : new GraphQLError(cause.message, { originalError: cause });
}
