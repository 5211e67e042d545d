/**
 * Bench child 1: the real gateway (src/server/app.ts `startGateway`), with the real auth, on its
 * own `pg` pool of the bench's size. Started by dist/bench/run.js with child_process.fork.
 */
import 'reflect-metadata';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { defaultProviders } from '../src/runtime.js';
import { startGateway } from '../src/server/app.js';
import { jsonLogger } from '../src/server/logger.js';
import { readServerOptions, serveChild } from './shared.js';

serveChild(async () => {
  const options = readServerOptions();
  const config = loadConfig(process.env, {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: options.databaseUrl,
    dbPoolSize: options.poolSize,
    production: true,
  });
  const database = await openDatabase(options.databaseUrl, { poolSize: options.poolSize, migrate: false });
  const gateway = await startGateway(config, { database, providers: defaultProviders(), logger: jsonLogger({ service: 'bench-gateway' }) });
  return {
    port: gateway.port,
    async stop() {
      await gateway.stop();
      await database.close();
    },
  };
});
