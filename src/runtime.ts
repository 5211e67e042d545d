import type { Config } from './config.js';
import { openDatabase, resolveDatabaseServer, type Database } from './db/database.js';
import type { RunningDatabase } from './db/embedded-postgres.js';
import { startGateway, type Gateway } from './server/app.js';
import type { Logger } from './domain/logger.js';

export interface Runtime {
  readonly gateway: Gateway;
  readonly database: Database;
  stop(): Promise<void>;
}

/** Opens the database (embedded or DATABASE_URL), migrates it, and runs the gateway on it. */
async function openRuntimeDatabase(config: Config, logger: Logger): Promise<{ server: RunningDatabase; database: Database }> {
  // The embedded server's own log is noise at start; EMBEDDED_PG_LOG=1 shows it.
  const log = config.embeddedPgLog ? (line: string) => logger.info(line, { component: 'embedded-postgres' }) : undefined;
  if (!config.databaseUrl) logger.info('using the embedded PostgreSQL', { dataDir: config.dataDir, port: config.embeddedPgPort });
  const server = await resolveDatabaseServer({ ...config, log });
  try {
    const database = await openDatabase(server.url, { poolSize: config.dbPoolSize, migrate: true });
    return { server, database };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export async function startRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const { server, database } = await openRuntimeDatabase(config, logger);
  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { database, logger });
  } catch (error) {
    await database.close();
    await server.stop();
    throw error;
  }
  return {
    gateway,
    database,
    async stop() {
      await gateway.stop();
      await database.close();
      await server.stop();
    },
  };
}
