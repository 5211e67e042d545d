import type { Config } from '../config.js';
import { resolveAccessTokenKeys } from '../shared/access-token-keys.js';
import { Authenticator, type Principal } from '../domain/authenticator.js';
import { AccessTokens } from '../domain/access-tokens.js';
import { CallService, type LiveEventSource } from '../domain/call-service.js';
import { CallLifecycle, type ProviderCallbacks } from '../domain/call-lifecycle.js';
import { PgCallStore } from '../db/pg-call-store.js';
import { PgKeyLookup } from '../db/pg-key-lookup.js';
import type { Database } from '../db/database.js';
import type { LiveProviders } from '../providers/live-providers.js';
import { canRingWebrtc } from '../config/providers.js';
import { PgCommandStore } from '../db/pg-command-store.js';
import { CallCommands, recordFromAnswer } from '../domain/call-commands.js';
import { PhoneNumbers } from '../domain/phone-numbers.js';
import { PgPhoneNumberStore } from '../db/pg-phone-number-store.js';
import { CallTokens } from '../domain/call-tokens.js';
import { WebhookEndpoints } from '../domain/webhook-endpoints.js';
import type { SimulatorProvider } from '../providers/simulator/simulator-provider.js';
import type { EventBus } from '../events/event-bus.js';
import type { EventLog } from '../events/event-log.js';
import { CallEventStream } from '../events/call-event-stream.js';
import { FanoutHub } from '../graphql/fanout.js';
import { buildGatewaySchema } from '../graphql/schema.js';
import { federatedSchema } from '../graphql/federation.js';
import { createExecutor } from '../graphql/executor.js';
import type { SocketOperation } from '../graphql/shared-execution.js';
import { createContext, type GatewayContext } from '../graphql/context.js';
import type { Logger } from '../domain/logger.js';
import { Shutdown } from './shutdown.js';
import { RecordingLinks } from '../domain/recording-links.js';
import { startEvents } from './parts/events.js';
import { startProviders } from './parts/providers.js';
import { startCustomerWebhooks } from './parts/customer-webhooks.js';
import { startRetention } from './parts/retention.js';
import { startHttp } from './parts/http.js';
import { startTelemetry } from './telemetry.js';

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
 * The composition root: plain constructors, no container. Each part is started by its builder
 * (server/parts/*.ts), which registers how to stop what it started with `shutdown`; stop() runs
 * them in reverse order, and so does a start that fails half-way (a port in use must not leave
 * the event bus, the workers and their timers running).
 */
export async function startGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const shutdown = new Shutdown(deps.logger);
  try {
    return await compose(config, deps, shutdown);
  } catch (error) {
    await shutdown.run();
    throw error;
  }
}

async function compose(config: Config, deps: GatewayDeps, shutdown: Shutdown): Promise<Gateway> {
  const { database, logger } = deps;
  // First to start and last to stop: spans of the whole shutdown are flushed (server/telemetry.ts).
  const telemetry = startTelemetry(config);
  if (telemetry) shutdown.add('telemetry', () => telemetry.stop());
  const store = new PgCallStore(database.sql, {
    concurrent: config.tuning.heavyReadsPerApplication,
    waiting: config.tuning.heavyReadsWaiting,
    tokenSharePercent: config.rateLimitTokenSharePercent,
  });
  const commandStore = new PgCommandStore(database.sql);
  const numberStore = new PgPhoneNumberStore(database.sql, config.providers.whatsapp ?? null);
  const lifecycle = new CallLifecycle(store, commandStore, numberStore);
  const accessTokens = new AccessTokens(resolveAccessTokenKeys(config));
  const authenticator = new Authenticator(new PgKeyLookup(database.sql), {
    tokens: accessTokens,
    ttlMs: config.authCacheTtlMs,
    failuresPerMinute: config.authFailuresPerMinute,
    maxEntries: config.tuning.authCacheMaxKeys,
  });

  const { bus, eventLog } = await startEvents(config, database, lifecycle, logger, shutdown);
  const { simulator, live, providers } = await startProviders(config, store, lifecycle, logger, shutdown, deps.liveProviders);
  recordFromAnswer({ calls: store, commands: commandStore, lifecycle, providers }, logger);
  const webhooks = startCustomerWebhooks(config, database, eventLog, logger, shutdown);
  startRetention(config, database, logger, shutdown);

  // One limits object for every stream: a subscription's stream keeps it for its whole life.
  const streamLimits = { replayPageSize: config.tuning.replayPageSize, bufferLimit: config.tuning.streamBufferEvents };
  const liveEvents: LiveEventSource = (request) => CallEventStream.open(request, store, eventLog, streamLimits);
  // FEDERATION=1: the same schema as an Apollo Federation 2 subgraph (graphql/federation.ts).
  const schema = config.federation ? federatedSchema(await buildGatewaySchema()) : await buildGatewaySchema();
  // One executor for HTTP operations, WebSocket operations and every subscription event.
  const executor = createExecutor(schema, config.graphqlExecutor);
  const fanout = new FanoutHub(eventLog, config.production, logger, executor);
  const liveSubscriptions = () => eventLog.listenerCount - fanout.groupCount + fanout.memberCount;

  // Links the API gives out (Recording.url) start with the public URL, else the gateway's own
  // address, known once it listens.
  let baseUrl = config.providers.publicUrl ?? '';
  // Each operation's context: the domain's services, bound to the caller.
  // Made once, not per context: a subscription's context lives as long as it does.
  const endpointsChanged = () => webhooks.dispatcher.endpointsChanged();
  const eventsWritten = () => eventLog.kick();
  const contextFor = (principal: Principal, requestId: string, socketOperation?: SocketOperation): GatewayContext => {
    const endpoints = new WebhookEndpoints(webhooks.webhookStore, webhooks.urlGuard, principal, config.webhookAllowPrivateUrls, endpointsChanged);
    return createContext({
      principal,
      calls: new CallService({
        store,
        providers,
        tenant: principal,
        live: liveEvents,
        providerCallbacks: lifecycle,
        onEventsWritten: eventsWritten,
        statusCallbacks: endpoints,
      }),
      commands: new CallCommands({ calls: store, commands: commandStore, lifecycle, providers, tenant: principal }),
      tokens: new CallTokens(store, principal.mode === 'test' ? (live.testTokens ?? null) : live.tokens, principal),
      webhooks: endpoints,
      numbers: new PhoneNumbers(numberStore, principal, canRingWebrtc(config.providers)),
      accessTokens,
      requestId,
      baseUrl,
      socketOperation,
    });
  };

  const { pipeline, ws, host, port } = await startHttp(
    config,
    {
      database,
      logger,
      schema,
      executor,
      fanout,
      authenticator,
      contextFor,
      sources: {
        subscriptions: liveSubscriptions,
        eventLogLag: () => eventLog.lag,
        webhookQueueDepth: () => webhooks.webhookQueue.depth(),
        eventBus: () => bus.ping(),
      },
      providerCallbacks: live.webhooks,
      recordingLinks: new RecordingLinks(commandStore, providers),
    },
    shutdown,
  );
  baseUrl ||= `http://${host}:${port}`;

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
      return liveSubscriptions();
    },
    bus,
    simulator,
    stop: () => shutdown.run(),
  };
}
