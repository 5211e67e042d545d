import { randomUUID } from 'node:crypto';
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
import { CallService } from '../domain/call-service.js';
import { PgCallStore } from '../db/pg-call-store.js';
import { PgKeyLookup } from '../db/pg-key-lookup.js';
import type { Database } from '../db/database.js';
import { ProviderRegistry } from '../providers/channel-provider.js';
import { buildGatewaySchema } from '../graphql/schema.js';
import { createContext, type GatewayContext } from '../graphql/context.js';
import { formatGatewayError, unauthenticated } from '../graphql/errors.js';
import { attachWebSocketServer } from './ws.js';
import type { Logger } from './logger.js';

export interface Gateway {
  /** http://host:port/graphql */
  readonly url: string;
  /** ws://host:port/graphql */
  readonly wsUrl: string;
  readonly port: number;
  readonly authenticator: Authenticator;
  /** Stops accepting, drains HTTP and sockets. Does not close the database (its owner does). */
  stop(): Promise<void>;
}

export interface GatewayDeps {
  database: Database;
  providers: ProviderRegistry;
  logger: Logger;
}

/** The composition root of the request path: plain constructors, no container. */
export async function startGateway(config: Config, deps: GatewayDeps): Promise<Gateway> {
  const { database, providers, logger } = deps;
  const store = new PgCallStore(database.sql);
  const authenticator = new Authenticator(new PgKeyLookup(database.sql), config.authCacheTtlMs);
  const schema = await buildGatewaySchema();

  const contextFor = (principal: Principal, requestId: string): GatewayContext =>
    createContext({
      principal,
      calls: new CallService(store, providers, principal),
      rootEm: database.orm.em,
      requestId,
    });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const ws = attachWebSocketServer({ httpServer, schema, authenticator, contextFor, production: config.production, logger });

  const apollo = new ApolloServer<GatewayContext>({
    schema,
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // The process owns its shutdown order (cli.ts): drain, close the database, stop it, exit 0.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => {
      const result = formatGatewayError(formatted, error, config.production);
      if (result.extensions?.code === 'INTERNAL_SERVER_ERROR') logger.error('operation failed', { error: String((error as Error)?.stack ?? error) });
      return result;
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Apollo's cache-control plugin costs 16–68% on list queries (measured); nothing here uses it.
      ApolloServerPluginCacheControlDisabled(),
      // The default landing page loads from a CDN, which a closed network cannot reach.
      ApolloServerPluginLandingPageDisabled(),
      { async serverWillStart() { return { drainServer: () => ws.dispose() }; } },
    ],
  });
  await apollo.start();

  app.use(
    '/graphql',
    express.json({ limit: '100kb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const principal = await authenticator.authenticate(req.headers.authorization);
        if (!principal) throw unauthenticated();
        const requestId = typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'].slice(0, 64) : randomUUID();
        return contextFor(principal, requestId);
      },
    }),
  );

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
    stop() {
      stopping ??= apollo.stop();
      return stopping;
    },
  };
}
