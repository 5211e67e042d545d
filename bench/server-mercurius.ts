/**
 * Bench child 4: the outside peer a performance-minded team would pick instead, Mercurius 16 on
 * fastify 5 with graphql-jit (`jit: 1`: each document compiled after its first run), serving the
 * bare servers' schema and resolvers (bench/bare-apollo.ts): the same SQL, no auth, no validation
 * rules beyond graphql-js's. Reported with no target (issue 12).
 */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import pg from 'pg';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { bareResolvers, typeDefs } from './bare-apollo.js';
import { readServerOptions, serveChild } from './shared.js';

serveChild(async () => {
  const options = readServerOptions();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {});
  const app = Fastify({ logger: false });
  await app.register(mercurius, { schema: makeExecutableSchema({ typeDefs, resolvers: bareResolvers(pool, options.appId) }), jit: 1, graphiql: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    async stop() {
      await app.close();
      await pool.end();
    },
  };
});
