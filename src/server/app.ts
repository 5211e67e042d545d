import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Config } from '../config.js';
import { Authenticator, type Principal } from '../domain/authenticator.js';
import { CallService, type LiveEventSource } from '../domain/call-service.js';
import { CallLifecycle } from '../domain/call-lifecycle.js';
import { PgCallStore } from '../db/pg-call-store.js';
import { PgKeyLookup } from '../db/pg-key-lookup.js';
import { PgEventLog } from '../db/pg-event-log.js';
import type { Database } from '../db/database.js';
import { statementScope } from '../db/sql.js';
import { ProviderRegistry } from '../domain/channel-provider.js';
import { createLiveProviders, type LiveProviders } from '../providers/live-providers.js';
import { PgCommandStore } from '../db/pg-command-store.js';
import { CallCommands } from '../domain/command-service.js';
import { CallTokens } from '../domain/call-tokens.js';
import { WebhookEndpoints } from '../domain/webhook-endpoints.js';
import { PgWebhookStore } from '../db/pg-webhook-store.js';
import { DnsUrlGuard } from '../customer-webhooks/url-guard.js';
import { WebhookQueue } from '../db/pg-webhook-queue.js';
import { DeliveryWorker, WebhookDispatcher } from '../customer-webhooks/delivery-worker.js';
import type { ProviderCallbacks } from '../domain/call-lifecycle.js';
import type { Call } from '../domain/call.js';
import { CallCommandStatus, CallCommandType } from '../domain/command-rules.js';
import { mountProviderCallbacks } from './provider-callbacks.js';
import { SimulatorProvider } from '../providers/simulator/simulator-provider.js';
import type { EventBus } from '../events/event-bus.js';
import { PgEventBus } from '../db/pg-event-bus.js';
import { RedisEventBus } from '../events/redis-event-bus.js';
import { EventLog } from '../events/event-log.js';
import { CallEventStream } from '../events/call-event-stream.js';
import { FanoutHub } from '../graphql/fanout.js';
import { Retention } from '../db/retention.js';
import { PeriodicRunner } from '../events/coalescing-runner.js';
import { buildGatewaySchema } from '../graphql/schema.js';
import { createExecutor } from '../graphql/executor.js';
import { executorGateway } from './apollo-executor.js';
import type { SocketOperation } from '../graphql/shared-execution.js';
import { createContext, type GatewayContext } from '../graphql/context.js';
import { KeyRateLimiter } from './rate-limit.js';
import { Operations } from './operations.js';
import { mountWeb } from './web.js';
import { attachWebSocketServer } from './ws.js';
import { graphqlPostHandler } from './http-graphql.js';
import { OperationPipeline } from './pipeline.js';
import { PARSE_OPTIONS, validationRules } from '../graphql/limits.js';
import type { Logger } from '../domain/logger.js';

export interface Gateway {
  /** http://host:port/graphql */
  readonly url: string;
  /** ws://host:port/graphql */
  readonly wsUrl: string;
  readonly port: number;
  readonly authenticator: Authenticator;
  /** The entry point for provider status updates. */
  readonly lifecycle: CallLifecycle;
  readonly eventLog: EventLog;
  readonly bus: EventBus & { simulateConnectionLoss(): Promise<void> };
  readonly simulator: SimulatorProvider;
  /** Cuts every WebSocket at once (tests of reconnection; an operator draining a node). */
  dropWebSockets(): void;
  /** Operations that reached execution (resolvers), over HTTP and WebSocket. */
  readonly executions: number;
  /** Executions run compiled (graphql-jit) and interpreted (graphql-js), subscription events included. */
  readonly executorStats: { compiled: number; interpreted: number };
  /** POST /graphql operations the pipeline answered itself, and those it handed to Apollo Server (GRAPHQL_HTTP). */
  readonly httpStats: { direct: number; apollo: number };
  /** Texts parsed and validated, and operations that found theirs in the one document cache. */
  readonly documentStats: { parsed: number; hits: number };
  /** Live callStatus subscriptions: those still replaying or draining, plus those in fan-out groups. */
  readonly liveSubscriptions: number;
  /** Stops accepting, drains HTTP and sockets, stops the simulator and the event log. Does not close the database (its owner does). */
  stop(): Promise<void>;
}

export interface GatewayDeps {
  database: Database;
  logger: Logger;
  /**
   * Replaces the live providers built from config.providers (tests use a recording double);
   * a pair with no provider gets PROVIDER_NOT_CONFIGURED.
   */
  liveProviders?: (callbacks: ProviderCallbacks) => LiveProviders;
}

/**
 * The composition root of the request path: plain constructors, no container. Every part that
 * starts something registers how to stop it (`onStop`); stop() runs them in reverse order, and so
 * does a start that fails half-way (a port in use must not leave the event bus, the workers and
 * their timers running).
 */
export async function startGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const stops: { name: string; stop: () => Promise<void> | void }[] = [];
  const onStop = (name: string, stop: () => Promise<void> | void) => void stops.push({ name, stop });
  const stopAll = async () => {
    for (const { name, stop } of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        deps.logger.error('stopping a part of the gateway failed', { part: name, error: (error as Error).message });
      }
    }
  };
  try {
    return await compose(config, deps, onStop, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function compose(
  config: Config,
  deps: GatewayDeps,
  onStop: (name: string, stop: () => Promise<void> | void) => void,
  stopAll: () => Promise<void>,
): Promise<Gateway> {
  const { database, logger } = deps;
  const store = new PgCallStore(database.sql);
  const authenticator = new Authenticator(new PgKeyLookup(database.sql), { ttlMs: config.authCacheTtlMs, failuresPerMinute: config.authFailuresPerMinute });
  const commandStore = new PgCommandStore(database.sql);
  const lifecycle = new CallLifecycle(store, commandStore);

  const bus = config.redisUrl ? new RedisEventBus(config.redisUrl, logger) : new PgEventBus(database.url, database.sql, logger);
  await bus.start();
  onStop('event bus', () => bus.close());
  const eventLog = new EventLog(new PgEventLog(database.sql), bus, logger, { pollMs: config.eventPollMs, batch: 1_000, sequenceDelayMs: 2 });
  await eventLog.start();
  onStop('event log', () => eventLog.stop());
  // Every applied transition is committed when apply() returns: number it and announce it.
  lifecycle.onEventsWritten(() => eventLog.kick());

  const simulator = new SimulatorProvider(lifecycle, store, logger, {
    timeScale: config.simulatorTimeScale,
    sweepMs: Math.max(1_000, 5_000 * config.simulatorTimeScale),
    maxInFlight: config.simulatorMaxInFlight,
  });
  await simulator.start();
  onStop('simulator', () => simulator.stop());
  const live = (deps.liveProviders ?? ((callbacks) => createLiveProviders(config.providers, callbacks, logger)))(lifecycle);
  onStop('live providers', () => live.stop());
  const providers = new ProviderRegistry({ test: simulator, live: (from, to) => live.route(from, to), byName: live.all });
  // Lost callbacks: overdue commands fail, live calls stuck before answer are hung up at their
  // provider (best effort, logged) and end FAILED.
  const hangUpStuck = async (call: Call): Promise<void> => {
    const provider = providers.byName(call.provider);
    // No provider id: the provider never took the call (its placement did not finish), nothing to hang up.
    if (!provider || !call.providerCallId) return;
    const now = new Date();
    try {
      await provider.execute(call, { id: `sweep_${call.id}`, callId: call.id, type: CallCommandType.HANGUP, status: CallCommandStatus.ACCEPTED, args: { type: CallCommandType.HANGUP }, error: null, createdAt: now, updatedAt: now });
    } catch (error) {
      logger.warn('stuck call not hung up at its provider; ending it here', { callId: call.id, provider: provider.name, error: (error as Error).message });
    }
  };
  // One sweep at a time: a run that outlasts the interval is followed by one more, not overlapped.
  const sweeper = new PeriodicRunner(
    () =>
      lifecycle.sweep({ commandTimeoutMs: config.commandTimeoutMs, setupTimeoutMs: config.callSetupTimeoutMs }, hangUpStuck).catch((error) =>
        logger.error('provider sweep failed', { error: (error as Error).message }),
      ),
    Math.min(15_000, Math.max(50, Math.min(config.commandTimeoutMs, config.callSetupTimeoutMs) / 4)),
  ).start();
  onStop('provider sweep', () => sweeper.stop());
  // Outbound webhooks: the log is fanned out to deliveries whenever its head moves.
  const webhookStore = new PgWebhookStore(database.sql, config.secrets);
  if (!config.secrets.enabled && config.production) logger.warn('SECRETS_KEY is not set: webhook signing secrets are stored unencrypted');
  const urlGuard = new DnsUrlGuard();
  const webhookQueue = new WebhookQueue(database.sql, config.secrets);
  const deliveryWorker = new DeliveryWorker(webhookQueue, logger, {
    retryScheduleMs: config.webhookRetryScheduleMs,
    timeoutMs: config.webhookTimeoutMs,
    allowPrivate: config.webhookAllowPrivateUrls,
    pollMs: config.webhookPollMs,
    concurrency: 16,
    perEndpoint: config.webhookMaxInFlightPerEndpoint,
    perApplication: config.webhookMaxInFlightPerApplication,
  });
  const dispatcher = new WebhookDispatcher(webhookQueue, deliveryWorker, logger);
  eventLog.onAdvance(() => dispatcher.kick());
  deliveryWorker.start();
  onStop('webhook delivery', () => deliveryWorker.stop());
  dispatcher.kick();
  onStop('webhook dispatcher', () => dispatcher.stop());
  // Retention: old events, commands and deliveries are deleted, in bounded batches, one run at a time.
  const retention = new Retention(database.sql, config.retention);
  const retentionRunner = new PeriodicRunner(async () => {
    try {
      const deleted = await retention.run();
      if (Object.values(deleted).some((count) => count > 0)) logger.info('retention run', deleted);
    } catch (error) {
      logger.error('retention run failed; the next one will retry', { error: (error as Error).message });
    }
  }, config.retentionSweepMs);
  if (config.retentionSweepMs > 0) retentionRunner.start();
  onStop('retention', () => retentionRunner.stop());
  const liveEvents: LiveEventSource = (request) => CallEventStream.open(request, store, eventLog);
  const schema = await buildGatewaySchema();
  // One executor for HTTP operations, WebSocket operations and every subscription event.
  const executor = createExecutor(schema, config.graphqlExecutor);
  const fanout = new FanoutHub(eventLog, config.production, logger, executor);

  const contextFor = (principal: Principal, requestId: string, socketOperation?: SocketOperation): GatewayContext =>
    createContext({
      principal,
      calls: new CallService(store, providers, principal, liveEvents, lifecycle, () => eventLog.kick()),
      commands: new CallCommands(store, commandStore, lifecycle, providers, principal),
      tokens: new CallTokens(store, principal.mode === 'test' ? (live.testTokens ?? null) : live.tokens, principal),
      webhooks: new WebhookEndpoints(webhookStore, urlGuard, principal, config.webhookAllowPrivateUrls, () => dispatcher.endpointsChanged()),
      requestId,
      socketOperation,
    });

  const app = express();
  app.disable('x-powered-by');
  const operations = new Operations(
    {
      subscriptions: () => eventLog.listenerCount - fanout.groupCount + fanout.memberCount,
      eventLogLag: () => eventLog.lag,
      pool: () => ({ total: database.sql.pool.totalCount, idle: database.sql.pool.idleCount, waiting: database.sql.pool.waitingCount }),
      webhookQueueDepth: () => webhookQueue.depth(),
      database: () => database.sql.ping(),
      eventBus: () => bus.ping(),
    },
    logger,
    { metricsToken: config.metricsToken },
  );
  operations.mount(app);
  mountWeb(app, { production: config.production });
  // POST /graphql goes straight to Apollo (server/http-graphql.ts); everything else to express.
  let serveGraphQLPost: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null = null;
  const httpServer = http.createServer((req, res) => {
    if (serveGraphQLPost && req.method === 'POST' && (req.url === '/graphql' || req.url?.startsWith('/graphql?'))) {
      serveGraphQLPost(req, res).catch((error: unknown) => {
        logger.error('graphql request failed outside Apollo', { error: String((error as Error)?.stack ?? error) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
      return;
    }
    app(req, res);
  });
  const rateLimiter = new KeyRateLimiter({ perMinute: config.rateLimitPerMinute, redisUrl: config.redisUrl, pool: database.sql.pool }, logger);
  onStop('rate limiter', () => rateLimiter.close());
  // One pipeline for every operation, over both transports (server/pipeline.ts).
  const pipeline = new OperationPipeline({ schema, production: config.production, logger, authenticator, rateLimiter, operations, executor, contextFor });
  const ws = attachWebSocketServer({ httpServer, schema, authenticator, pipeline, fanout, logger,
    limits: {
      initTimeoutMs: config.wsInitTimeoutMs,
      keepAliveMs: config.wsKeepAliveMs,
      maxPayloadBytes: config.wsMaxPayloadBytes,
      perSocket: config.wsMaxOperationsPerSocket,
      perKey: config.wsMaxOperationsPerKey,
      connectionsPerKey: config.wsMaxConnectionsPerKey,
      connectionsPerAddress: config.wsMaxConnectionsPerAddress,
      slowConsumerBytes: config.wsSlowConsumerBytes,
      recheckMs: Math.max(1_000, config.authCacheTtlMs),
    },
  });
  // Also drained by Apollo's drainServer hook on a normal stop; here for a start that fails before it.
  onStop('WebSocket server', () => ws.dispose());

  // Outside production: how many SQL statements the request sent (see statementScope), on every
  // POST answer, whether the pipeline or Apollo gave it.
  const statementHeaders = (): Record<string, string> => {
    const scope = statementScope.getStore();
    return scope ? { 'x-sql-statements': String(scope.count) } : {};
  };
  const apollo = new ApolloServer<GatewayContext>({
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
      { async serverWillStart() { return { drainServer: () => ws.dispose() }; } },
      ...(config.production
        ? []
        : [{
            async requestDidStart() {
              return {
                async willSendResponse({ response }: { response: { http: { headers: Map<string, string> } } }) {
                  for (const [name, value] of Object.entries(statementHeaders())) response.http.headers.set(name, value);
                },
              };
            },
          }]),
    ],
  });
  await apollo.start();
  // First to stop: drains HTTP and the WebSocket server (its drainServer hook) before the rest goes.
  onStop('HTTP and WebSocket', () => apollo.stop());

  const postGraphQL = graphqlPostHandler(apollo, pipeline, {
    maxBodyBytes: 100 * 1024,
    direct: config.graphqlHttp === 'direct',
    headers: config.production ? undefined : statementHeaders,
  });
  // Counting statements per request (x-sql-statements) needs AsyncLocalStorage, which slows
  // every promise of the request (≈9% CPU per createCall, measured): development only.
  serveGraphQLPost = config.production ? postGraphQL : (req, res) => statementScope.run({ count: 0 }, () => postGraphQL(req, res));
  // GET /graphql (queries with a CSRF-safe header; GraphiQL in development) stays on express.
  app.use(
    '/graphql',
    ...(config.production ? [] : [(_req: express.Request, _res: express.Response, next: express.NextFunction) => statementScope.run({ count: 0 }, next)]),
    express.json({ limit: '100kb' }),
    expressMiddleware(apollo, { context: async ({ req }) => pipeline.contextForRequest(req.socket.remoteAddress, req.headers.authorization, req.headers['x-request-id']) }),
  );

  mountProviderCallbacks(app, live.webhooks, logger);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    port,
    authenticator,
    lifecycle,
    eventLog,
    dropWebSockets() {
      ws.dropAll();
    },
    get executions() {
      return pipeline.executions;
    },
    get httpStats() {
      return { ...pipeline.httpStats };
    },
    get documentStats() {
      return { ...pipeline.documents.stats };
    },
    get executorStats() {
      return { ...executor.stats! };
    },
    get liveSubscriptions() {
      return eventLog.listenerCount - fanout.groupCount + fanout.memberCount;
    },
    bus,
    simulator,
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}
