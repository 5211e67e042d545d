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
  // The bench measures throughput, not the per-key rate limit (120/min by default).
  const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '0', ...process.env }, {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: options.databaseUrl,
    dbPoolSize: options.poolSize,
    production: true,
    redisUrl: undefined,
  });
  const runtime = await startRuntime(config, jsonLogger({ service: 'bench-gateway' }));
  return { port: runtime.gateway.port, stop: () => runtime.stop() };
});
