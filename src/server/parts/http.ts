import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { statementScope } from '../../db/sql.js';
import type { Authenticator, Principal } from '../../domain/authenticator.js';
import type { Logger } from '../../domain/logger.js';
import type { GatewayContext } from '../../graphql/context.js';
import type { Executor } from '../../graphql/executor.js';
import type { FanoutHub } from '../../graphql/fanout.js';
import { PARSE_OPTIONS, validationRules } from '../../graphql/limits.js';
import type { SocketOperation } from '../../graphql/shared-execution.js';
import type { ProviderWebhook } from '../../domain/channel-provider.js';
import { executorGateway } from '../apollo-executor.js';
import { graphqlPostHandler } from '../http-graphql.js';
import { Operations, type OperationsSources } from '../operations.js';
import { OperationPipeline } from '../pipeline.js';
import { mountProviderCallbacks } from '../provider-callbacks.js';
import { mountRecordingDownloads } from '../recording-downloads.js';
import type { RecordingLinks } from '../../domain/recording-links.js';
import { KeyRateLimiter } from '../rate-limit.js';
import { CorsPolicy } from '../cors.js';
import { PgOriginStore } from '../../db/pg-origin-store.js';
import type { Shutdown } from '../shutdown.js';
import { mountWeb } from '../web.js';
import { attachWebSocketServer, type WebSocketServerHandle } from '../ws.js';
import { CODE, statusOf } from '../../graphql/error-codes.js';
import { TrustedDocuments } from '../trusted-documents.js';
import { PgTrustedDocumentStore } from '../../db/pg-trusted-document-store.js';
import { tracing } from '../../shared/tracing.js';
import { requestSpan } from '../operation-spans.js';

export interface HttpParts {
  pipeline: OperationPipeline;
  ws: WebSocketServerHandle;
  /** The address the server listens on, as a client reaches it (0.0.0.0 → 127.0.0.1). */
  host: string;
  port: number;
}

export interface HttpDeps {
  database: Database;
  logger: Logger;
  schema: GraphQLSchema;
  executor: Executor;
  fanout: FanoutHub;
  authenticator: Authenticator;
  contextFor: (principal: Principal, requestId: string, socketOperation?: SocketOperation) => GatewayContext;
  /** What /metrics and /readyz read, besides the pool (operations.ts). */
  sources: Omit<OperationsSources, 'pool' | 'database'>;
  /** The live providers' callbacks, mounted at /webhooks/<path>. */
  providerCallbacks: readonly ProviderWebhook[];
  /** Where saved recordings are fetched (GET /recordings/{id}). */
  recordingLinks: RecordingLinks;
}

/**
 * One HTTP server and port for everything: POST /graphql straight to the operation pipeline or
 * Apollo Server (server/http-graphql.ts), GraphQL over WebSocket (server/ws.ts), GET /graphql,
 * the dashboard, /metrics and health, and the providers' callbacks on express.
 */
export async function startHttp(config: Config, deps: HttpDeps, shutdown: Shutdown): Promise<HttpParts> {
  const { database, logger, schema, executor } = deps;
  const app = express();
  app.disable('x-powered-by');
  const operations = new Operations(
    {
      ...deps.sources,
      pool: () => ({ total: database.sql.pool.totalCount, idle: database.sql.pool.idleCount, waiting: database.sql.pool.waitingCount }),
      database: () => database.sql.ping(),
    },
    logger,
    { metricsToken: config.metricsToken },
  );
  operations.mount(app);
  mountWeb(app, { production: config.production });
  const cors = new CorsPolicy(new PgOriginStore(database.sql), {
    ttlMs: config.authCacheTtlMs,
    maxEntries: config.tuning.authCacheMaxKeys,
    publicUrl: config.providers.publicUrl,
    missesPerMinute: config.authFailuresPerMinute,
  });
  // POST /graphql goes straight to the pipeline or Apollo (server/http-graphql.ts); everything else to express.
  let serveGraphQLPost: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null = null;
  const httpServer = http.createServer((req, res) => {
    // CORS preflights of the API, answered from the applications' allowed origins (server/cors.ts).
    if (req.method === 'OPTIONS' && (req.url === '/graphql' || req.url?.startsWith('/graphql?') || req.url?.startsWith('/recordings/'))) {
      cors.preflight(req, res).catch((error: unknown) => {
        logger.error('preflight failed', { error: String(error) });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
      return;
    }
    if (serveGraphQLPost && req.method === 'POST' && (req.url === '/graphql' || req.url?.startsWith('/graphql?'))) {
      serveGraphQLPost(req, res).catch((error: unknown) => {
        logger.error('graphql request failed outside Apollo', { error: String((error as Error)?.stack ?? error) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: CODE.INTERNAL_SERVER_ERROR } }] }));
      });
      return;
    }
    app(req, res);
  });
  const rateLimiter = new KeyRateLimiter(
    { perMinute: config.rateLimitPerMinute, tokenSharePercent: config.rateLimitTokenSharePercent, redisUrl: config.redisUrl, pool: database.sql.pool },
    logger,
  );
  shutdown.add('rate limiter', () => rateLimiter.close());
  // One pipeline for every operation, over both transports (server/pipeline.ts).
  const pipeline = new OperationPipeline({
    schema,
    production: config.production,
    logger,
    authenticator: deps.authenticator,
    rateLimiter,
    operations,
    executor,
    contextFor: deps.contextFor,
    cors,
    documentCache: { maxEntries: config.tuning.documentCacheEntries, maxBytes: config.tuning.documentCacheBytes },
    // Registered texts are ≈1/16 of their parsed documents' charge in the document cache: the same bounds hold both.
    trustedDocuments: new TrustedDocuments(new PgTrustedDocumentStore(database.sql), {
      ttlMs: config.authCacheTtlMs,
      maxEntries: config.tuning.documentCacheEntries,
      maxBytes: config.tuning.documentCacheBytes,
    }),
  });
  const ws = attachWebSocketServer({
    httpServer,
    cors,
    schema,
    authenticator: deps.authenticator,
    pipeline,
    fanout: deps.fanout,
    logger,
    limits: {
      initTimeoutMs: config.wsInitTimeoutMs,
      keepAliveMs: config.wsKeepAliveMs,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      perSocket: config.wsMaxOperationsPerSocket,
      perKey: config.wsMaxOperationsPerKey,
      connectionsPerKey: config.wsMaxConnectionsPerKey,
      connectionsPerToken: config.wsMaxConnectionsPerToken,
      perToken: config.wsMaxOperationsPerToken,
      connectionsPerAddress: config.wsMaxConnectionsPerAddress,
      slowConsumerBytes: config.wsSlowConsumerBytes,
      recheckMs: config.tuning.wsKeyRecheckMs,
    },
  });
  // Also drained by Apollo's drainServer hook on a normal stop; here for a start that fails before it.
  shutdown.add('WebSocket server', () => ws.dispose());

  const apollo = apolloServer(config, schema, executor, pipeline, httpServer, ws);
  await apollo.start();
  // First to stop: drains HTTP and the WebSocket server (its drainServer hook) before the rest goes.
  shutdown.add('HTTP and WebSocket', () => apollo.stop());

  const postGraphQL = graphqlPostHandler(apollo, pipeline, {
    maxBodyBytes: config.tuning.maxRequestBytes,
    direct: config.graphqlHttp === 'direct',
    headers: config.production ? undefined : statementHeaders,
    cors,
    traceClientContext: config.traceClientContext,
  });
  // Counting statements per request (x-sql-statements) needs AsyncLocalStorage, which slows
  // every promise of the request (≈9% CPU per createCall, measured): development only.
  serveGraphQLPost = config.production ? postGraphQL : (req, res) => statementScope.run({ count: 0 }, () => postGraphQL(req, res));
  // GET /graphql (queries with a CSRF-safe header; GraphiQL in development) stays on express.
  app.use(
    '/graphql',
    // Tracing on: a GET is a span (server/operation-spans.ts), ended once answered.
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (!tracing.on || req.method !== 'GET') return next();
      void requestSpan('GET', req, res, config.traceClientContext, () => {
        const answered = new Promise<void>((resolve) => res.once('close', () => resolve()));
        next();
        return answered;
      });
    },
    ...(config.production ? [] : [(_req: express.Request, _res: express.Response, next: express.NextFunction) => statementScope.run({ count: 0 }, next)]),
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      cors.applyTo(cors.foreignOrigin(req), req.socket.remoteAddress, res).then(() => next(), next);
    },
    express.json({ limit: config.tuning.maxRequestBytes }),
    // GET with documentId, or under a documents policy: the registered text in place of the id, before Apollo reads the URL.
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      getDocumentSource(pipeline, cors, req, res).then((handled) => (handled ? undefined : next()), next);
    },
    expressMiddleware(apollo, {
      // Made by getDocumentSource when the request carries an operation (one key check and rate-limit point per request).
      context: async ({ req }) => contexts.get(req) ?? contextFor(pipeline, cors, req),
    }),
  );

  mountProviderCallbacks(app, deps.providerCallbacks, logger);
  mountRecordingDownloads(app, pipeline, cors, deps.recordingLinks, logger);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return { pipeline, ws, host, port };
}

/** The context of a GET /graphql request made before Apollo ran (getDocumentSource), for Apollo's context function. */
const contexts = new WeakMap<http.IncomingMessage, Promise<GatewayContext>>();

function contextFor(pipeline: OperationPipeline, cors: CorsPolicy, req: http.IncomingMessage): Promise<GatewayContext> {
  return pipeline.contextForRequest(req.socket.remoteAddress, req.headers.authorization, req.headers['x-request-id'], cors.foreignOrigin(req));
}

/**
 * GET /graphql?documentId=sha256:… (the persisted documents proposal), and GET under an
 * application's documents policy: Apollo Server reads the document from the URL, so the step the
 * pipeline takes for POST and WebSocket (pipeline.source) is taken here first. The key is checked
 * here (only for a request that carries credentials and an operation: GraphiQL's page load does
 * not count as a failed authentication) and its context handed to Apollo; a refused key is left to
 * Apollo to answer. True when the request was answered (refused) here.
 */
async function getDocumentSource(pipeline: OperationPipeline, cors: CorsPolicy, req: express.Request, res: express.Response): Promise<boolean> {
  // Without credentials Apollo refuses the request itself (CSRF, then 401), as before this step existed.
  if (req.method !== 'GET' || req.headers.authorization === undefined) return false;
  const url = new URL(req.url, 'http://gateway');
  const documentId = url.searchParams.get('documentId');
  if (documentId === null && !url.searchParams.has('query') && !url.searchParams.has('extensions')) return false;
  const pending = contextFor(pipeline, cors, req);
  contexts.set(req, pending);
  const started = process.hrtime.bigint();
  let context: GatewayContext;
  try {
    context = await pending;
  } catch {
    return false;
  }
  if (!pipeline.needsSource(context.principal, documentId)) return false;
  const source = await pipeline.source(context.principal, documentId, url.searchParams.get('query'));
  if (source instanceof GraphQLError) {
    const refusal = pipeline.refusal(
      { errors: [source], status: statusOf(source) },
      { operationName: url.searchParams.get('operationName'), requestId: context.requestId, principal: context.principal, started },
    );
    res.status(refusal.status).type('application/json; charset=utf-8').send(refusal.body);
    return true;
  }
  url.searchParams.delete('documentId');
  url.searchParams.set('query', source);
  req.url = `${url.pathname}${url.search}`;
  return false;
}

/**
 * Outside production: how many SQL statements the request sent (see statementScope), on every
 * POST answer, whether the pipeline or Apollo gave it.
 */
function statementHeaders(): Record<string, string> {
  const scope = statementScope.getStore();
  return scope ? { 'x-sql-statements': String(scope.count) } : {};
}

function apolloServer(
  config: Config,
  schema: GraphQLSchema,
  executor: Executor,
  pipeline: OperationPipeline,
  httpServer: http.Server,
  ws: WebSocketServerHandle,
): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    // graphql-jit through Apollo's gateway executor hook (server/apollo-executor.ts); graphql-js
    // keeps Apollo's own execution.
    ...(config.graphqlExecutor === 'jit' ? { gateway: executorGateway(schema, executor) } : { schema }),
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Documents come validated from the pipeline's cache (server/pipeline.ts); Apollo's own store
    // is off, so it never replaces one. A text the pipeline refused, sent by GET, is refused by
    // Apollo with the same rules (graphql/limits.ts).
    documentStore: null,
    validationRules: validationRules(config.production),
    parseOptions: PARSE_OPTIONS,
    hideSchemaDetailsFromClientErrors: true,
    // The process owns its shutdown order (cli.ts): drain, close the database, stop it, exit 0.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => pipeline.formatError(formatted, error),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      pipeline.apolloPlugin(),
      // Apollo's cache-control plugin costs 16–68% on list queries (measured); nothing here uses it.
      ApolloServerPluginCacheControlDisabled(),
      // The default landing page loads from a CDN, which a closed network cannot reach.
      ApolloServerPluginLandingPageDisabled(),
      {
        async serverWillStart() {
          return { drainServer: () => ws.dispose() };
        },
      },
      ...(config.production
        ? []
        : [
            {
              async requestDidStart() {
                return {
                  async willSendResponse({ response }: { response: { http: { headers: Map<string, string> } } }) {
                    for (const [name, value] of Object.entries(statementHeaders())) response.http.headers.set(name, value);
                  },
                };
              },
            },
          ]),
    ],
  });
}
