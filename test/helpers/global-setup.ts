import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { Redis } from 'ioredis';
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
    /** Redis for the tests that need it: REDIS_URL, else a redis-server started here; '' when there is none (those tests skip). */
    redisUrl: string;
  }
}

/** Where Debian's Chromium is: the browser tests drive it (never a downloaded browser). */
export const CHROMIUM = '/usr/bin/chromium';

function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Redis for this run: REDIS_URL when set; else its own redis-server on a free loopback port when
 * the binary is installed (stopped at the end); else none, with one line saying what to install.
 * Under CI nothing may be missing: the run fails instead (.ci/run installs what it needs).
 */
async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const binary = onPath('redis-server');
  if (!binary) {
    const line = 'Redis tests skipped: redis-server is not installed (Debian: apt-get install redis-server) and REDIS_URL is not set';
    if (process.env.CI) throw new Error(`${line}; under CI nothing may be skipped`);
    process.stdout.write(`\n${line}\n`);
    return { url: '', stop: async () => {} };
  }
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  for (let tries = 0; ; tries++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (error) {
      if (tries > 50) throw new Error(`redis-server did not start on ${url}`, { cause: error });
      client.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  client.disconnect();
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
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
  const redis = await startRedis();
  project.provide('redisUrl', redis.url);
  if (project.name === 'browser' && !existsSync(CHROMIUM)) {
    const line = `Browser tests skipped: ${CHROMIUM} is missing (Debian: apt-get install chromium)`;
    if (process.env.CI) throw new Error(`${line}; under CI nothing may be skipped`);
    process.stdout.write(`\n${line}\n`);
  }
  return async () => {
    await redis.stop();
    await teardown();
  };
}
