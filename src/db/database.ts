import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ormConfig } from './mikro-orm.config.js';
import { Sql } from './sql.js';
import { startEmbeddedPostgres, type RunningDatabase } from './embedded-postgres.js';

export interface Database {
  readonly url: string;
  readonly orm: MikroORM;
  readonly sql: Sql;
  close(): Promise<void>;
}

/** Arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 7_342_001;

/** Applies pending migrations; safe when several gateways (or the CLI) start at once. */
async function migrate(orm: MikroORM, url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await orm.getMigrator().up();
    return applied.map((migration) => migration.name);
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    await client.end();
  }
}

/**
 * What the database would need to match the entities (SQL), '' when they agree. The entities are
 * the schema's one source; a test runs this on a freshly migrated database so that a migration
 * missing from an entity change (or an entity missing a migration's change) fails CI.
 * Functions (the sequencer's) are not compared: MikroORM does not model them.
 */
export async function schemaDrift(orm: MikroORM): Promise<string> {
  return (await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).trim();
}

export async function openDatabase(url: string, options: { poolSize: number; migrate: boolean }): Promise<Database> {
  const orm = await MikroORM.init(ormConfig(url));
  try {
    if (options.migrate) await migrate(orm, url);
  } catch (error) {
    await orm.close();
    throw error;
  }
  const sql = new Sql(url, options.poolSize);
  return {
    url,
    orm,
    sql,
    async close() {
      await Promise.allSettled([sql.close(), orm.close()]);
    },
  };
}

/** The configured server, or the embedded one when no URL is given. */
export async function resolveDatabaseServer(config: {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  log?: (line: string) => void;
}): Promise<RunningDatabase> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, owned: false, stop: async () => {} };
  }
  return startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log: config.log });
}
