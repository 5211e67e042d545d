import type http from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { GraphQLError, OperationTypeNode, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Span } from '@opentelemetry/api';
import { tracing } from '../shared/tracing.js';
import { describeOperation, requestSpan } from './operation-spans.js';
import { LRUCache } from 'lru-cache';
import Negotiator from 'negotiator';
import type { GatewayContext } from '../graphql/context.js';
import type { OperationPipeline, PreparedContext } from './pipeline.js';
import type { CorsPolicy } from './cors.js';
import { CODE, GATEWAY_ERRORS, statusOf } from '../graphql/error-codes.js';

/**
 * POST /graphql from node:http, without express: the framework's routing, middleware chain and
 * body parser were a measurable share of each request (issue 12). Everything else (GET /graphql,
 * the dashboard, probes, metrics, provider webhooks) stays on express.
 *
 * The operation pipeline (server/pipeline.ts) runs its steps here in order: the key, its origin and
 * its rate limit, then admitDocument (the document, the operation it names, the token's scopes: a
 * refusal is answered here as Apollo would, and recorded; test/admission.test.ts sends each refusal
 * over POST, GET and WebSocket).
 * A plain query or mutation is then executed and answered by the pipeline (answerDirectly);
 * anything else goes to Apollo's `executeHTTPGraphQLRequest` (Apollo Server documents it as the
 * way to build an integration), which takes the validated document from the context.
 */
export function graphqlPostHandler(
  apollo: ApolloServer<GatewayContext>,
  pipeline: OperationPipeline,
  options: {
    maxBodyBytes: number;
    /** Serve plain queries and mutations without Apollo (see answerDirectly); false: everything through Apollo (GRAPHQL_HTTP=apollo). */
    direct: boolean;
    /** Headers added to every GraphQL response (x-sql-statements outside production). */
    headers?: () => Record<string, string>;
    /** CORS: the allow-origin headers, and the application's check of a foreign origin. */
    cors: CorsPolicy;
    /** TRACE_CLIENT_CONTEXT: what a client's traceparent does while tracing is on. */
    traceClientContext: 'trust' | 'link';
  },
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, span?: Span): Promise<void> => {
    const started = process.hrtime.bigint();
    const origin = options.cors.foreignOrigin(req);
    if (origin !== undefined) await options.cors.applyTo(origin, req.socket.remoteAddress, res);
    let body: unknown;
    try {
      body = await readJsonBody(req, options.maxBodyBytes);
    } catch (error) {
      const code = (error as { status?: number }).status === 413 ? CODE.PAYLOAD_TOO_LARGE : CODE.BAD_REQUEST;
      res.writeHead(GATEWAY_ERRORS[code].http, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: (error as Error).message, extensions: { code } }] }));
      return;
    }
    let context: PreparedContext | undefined;
    let refused: unknown;
    try {
      context = await pipeline.contextForRequest(req.socket.remoteAddress, req.headers.authorization, req.headers['x-request-id'], origin);
    } catch (error) {
      refused = error;
    }
    let query = (body as { query?: unknown } | undefined)?.query;
    const operationName = (body as { operationName?: unknown } | undefined)?.operationName;
    // A registered document named by documentId, or a document refused unread by the application's policy (pipeline.source).
    if (context && isPlainObject(body) && pipeline.needsSource(context.principal, body.documentId)) {
      const source = await pipeline.source(context.principal, body.documentId, query);
      if (source instanceof GraphQLError) return refuse(pipeline, res, { errors: [source], status: statusOf(source) }, context, operationName, started);
      const { documentId: _named, ...rest } = body;
      body = { ...rest, query: source };
      query = source;
    }
    // A name that is not a string is Apollo's to refuse (400, BAD_REQUEST), as the rest of the body's shape.
    if (context && typeof query === 'string' && (operationName == null || typeof operationName === 'string')) {
      // The document, its operation and the token's scopes: the pipeline's one sequence (admitDocument).
      const admitted = pipeline.admitDocument(context.principal, query, operationName);
      if ('errors' in admitted) return refuse(pipeline, res, admitted, context, operationName, started);
      context.prepared = admitted.entry;
      if (span) describeOperation(span, admitted.operation, admitted.entry.key, context.principal);
      if (
        options.direct &&
        (await answerDirectly(
          pipeline,
          context,
          admitted.entry.document,
          admitted.operation,
          body as Record<string, unknown>,
          req,
          res,
          started,
          options.headers,
        ))
      )
        return;
    }
    pipeline.httpStats.apollo++;
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const search = url.indexOf('?');
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: search >= 0 ? url.slice(search) : '', body },
      // Apollo answers a refused key (401) or rate limit (429) with its status and headers.
      context: async () => {
        if (!context) throw refused;
        return context;
      },
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
  // Tracing on: the request is a span (a child of the client's traceparent, or linked to it).
  return (req, res) => (tracing.on ? requestSpan('POST', req, res, options.traceClientContext, (span) => handle(req, res, span)) : handle(req, res));
}

/**
 * The common request, answered by the pipeline without Apollo Server: a JSON body with `query`
 * and at most `variables` and `operationName`, naming a query or a mutation, from a client that
 * accepts JSON. Apollo's request pipeline (its plugins' hooks, the query's SHA-256, the response
 * head, negotiation) was most of what the gateway spent over the REST floor per request (issue
 * 12: profile in bench/README.md), and the pipeline already does the rest of what it did: the
 * key, the rate limit and the document before this point, execution, error formatting, the log
 * line and the metrics here. Anything else (GET, extensions such as persisted queries,
 * subscriptions over HTTP, variables that cannot be coerced, an Accept
 * header that wants something else) goes to Apollo as before, which stays the reference: CI runs
 * the whole suite with GRAPHQL_HTTP=apollo too, and test/http-paths.test.ts compares the two
 * answer for answer (status, headers, body bytes).
 *
 * CSRF: the body was parsed, so its content type is JSON, which no browser sends cross-origin
 * without a preflight: Apollo's csrfPrevention would let it through.
 */
async function answerDirectly(
  pipeline: OperationPipeline,
  context: PreparedContext,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  body: Record<string, unknown>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  started: bigint,
  extraHeaders: (() => Record<string, string>) | undefined,
): Promise<boolean> {
  for (const key in body) if (key !== 'query' && key !== 'variables' && key !== 'operationName') return false;
  const { variables } = body;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return false;
  const contentType = contentTypeFor(req.headers.accept);
  if (!contentType) return false;
  if (operation.operation === OperationTypeNode.SUBSCRIPTION) return false;
  const answer = await pipeline.executeHttp(document, operation, (variables ?? undefined) as Record<string, unknown> | undefined, context, started);
  if (!answer) return false;
  const head: Record<string, string> = { ...Object.fromEntries(answer.headers), ...extraHeaders?.(), 'content-type': contentType };
  res.writeHead(answer.status, head);
  res.end(answer.body);
  return true;
}

/** Answers an operation refused before it ran (pipeline.refusal: recorded, as Apollo would answer it). */
function refuse(
  pipeline: OperationPipeline,
  res: http.ServerResponse,
  refused: { errors: readonly GraphQLError[]; status: number },
  context: PreparedContext,
  operationName: unknown,
  started: bigint,
): void {
  const refusal = pipeline.refusal(refused, {
    operationName: typeof operationName === 'string' ? operationName : null,
    requestId: context.requestId,
    principal: context.principal,
    started,
  });
  res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(refusal.body);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Apollo's candidates, in its order (MEDIA_TYPES in @apollo/server's ApolloServer.js). */
const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json; charset=utf-8';
const CANDIDATES = [JSON_TYPE, GRAPHQL_RESPONSE_TYPE, 'application/json; callbackSpec=1.0; charset=utf-8'];
/** Accept headers seen, and the media type Apollo would answer each with (null: hand it to Apollo). Bounded. */
const chosenTypes = new LRUCache<string, { type: string | null }>({ max: 256 });

/** What Apollo's chooseContentTypeForSingleResultResponse picks for this Accept header (negotiator, as Apollo). */
function contentTypeFor(accept: string | undefined): string | null {
  if (!accept) return JSON_TYPE;
  if (accept.length > 256) return null;
  let chosen = chosenTypes.get(accept);
  if (!chosen) {
    const type = new Negotiator({ headers: { accept } }).mediaType(CANDIDATES);
    // The callback media type, or none acceptable (Apollo's 406), is left to Apollo.
    chosen = { type: type === JSON_TYPE || type === GRAPHQL_RESPONSE_TYPE ? type : null };
    chosenTypes.set(accept, chosen);
  }
  return chosen.type;
}

/** The request's JSON body (undefined unless its content type is JSON, as express.json() did), at most `limit` bytes. */
function readJsonBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const json = type === 'application/json' || type.endsWith('+json');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(Object.assign(new Error('request entity too large'), { status: 413 }));
        req.resume();
        return;
      }
      if (json) chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      if (!json) return resolve(undefined);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(Object.assign(new Error('the body is not valid JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });
}
