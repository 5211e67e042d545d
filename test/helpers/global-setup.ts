import { mkdtemp, rm, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ensureDatabase, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { openDatabase } from '../../src/db/database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One database for the run: with DATABASE_URL, a fresh database on that server (dropped at the
 * end, so the server's own data is never touched); without it, an embedded PostgreSQL in a
 * temporary folder. Migrations run once here, as the gateway runs them at start.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url: string;
  let teardown: () => Promise<void>;
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `calls_test_${Date.now()}_${process.pid}_${project.name || 'all'}`;
    const server = new URL(serverUrl);
    server.pathname = '';
    const base = server.toString().replace(/\/$/, '');
    await ensureDatabase(base, name);
    url = `${base}/${name}`;
    teardown = async () => {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      // The template and every per-gateway copy of it (a crashed test file may leave one).
      const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${name}%`]);
      for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
      await client.end();
    };
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'calls-test-'));
    await chmod(dir, 0o755);
    const running = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), database: 'calls_test' });
    url = running.url;
    teardown = async () => {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const database = await openDatabase(url, { poolSize: 1, migrate: true });
  await database.close();
  project.provide('databaseUrl', url);
  return teardown;
}
