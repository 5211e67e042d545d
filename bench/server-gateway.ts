/**
 * Bench child 1: the real gateway, composed exactly as `calls-gateway serve` composes it
 * (src/runtime.ts `startRuntime` → src/server/app.ts `startGateway`, with the default providers),
 * with the real auth, on the bench database and a `pg` pool of the bench's size.
 * Started by dist/bench/run.js with child_process.fork.
 */
import 'reflect-metadata';
import { loadConfig } from '../src/config.js';
import { startRuntime } from '../src/runtime.js';
import { jsonLogger } from '../src/server/logger.js';
import { readServerOptions, serveChild } from './shared.js';

serveChild(async () => {
  const options = readServerOptions();
  // As an operator runs it: the per-key rate limit on, counted in Redis (BENCH_REDIS_URL, '' for
  // none: then in PostgreSQL), at a limit the bench never reaches (BENCH_RATE_LIMIT per minute),
  // so its cost is measured, not its refusals; logs at info; metrics on.
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const config = loadConfig(
    { ...process.env, RATE_LIMIT_PER_MINUTE: process.env.BENCH_RATE_LIMIT ?? '1000000' },
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: options.databaseUrl,
      dbPoolSize: options.poolSize,
      // BENCH_PRODUCTION=0 measures what production mode costs (the rest as operators run it).
      production: process.env.BENCH_PRODUCTION !== '0',
      redisUrl: redisUrl || undefined,
    },
  );
  const runtime = await startRuntime(config, jsonLogger({ service: 'bench-gateway' }, undefined, config.logLevel));
  return { port: runtime.gateway.port, stop: () => runtime.stop() };
});
