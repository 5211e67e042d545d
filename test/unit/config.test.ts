import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

// The environment is parsed in one place (src/config.ts, zod): every bad variable is reported at
// once, one line each, naming the variable, what it must be and what it got.
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      dbPoolSize: 10,
      production: true,
      rateLimitPerMinute: 120,
      graphqlExecutor: 'jit',
      graphqlHttp: 'direct',
      logLevel: 'info',
      simulatorMaxInFlight: 4,
    });
    expect(config.webhookRetryScheduleMs.length).toBeGreaterThan(1);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads what is set', () => {
    expect(
      loadConfig({
        PORT: '0',
        NODE_ENV: 'test',
        LOG_LEVEL: 'debug',
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        SIMULATOR_TIME_SCALE: '0.01',
        DATABASE_URL: 'postgresql://u:p@127.0.0.1/db',
      }),
    ).toMatchObject({
      port: 0,
      production: false,
      logLevel: 'debug',
      webhookAllowPrivateUrls: true,
      simulatorTimeScale: 0.01,
      databaseUrl: 'postgresql://u:p@127.0.0.1/db',
    });
  });

  it('every bad variable at once, one line each', () => {
    expect(problems({ DB_POOL_SIZE: 'many', LOG_LEVEL: 'verbose', WEBHOOK_ALLOW_PRIVATE_URLS: 'yes', GRAPHQL_HTTP: 'fast' })).toEqual([
      'DB_POOL_SIZE must be an integer from 1 to 200, got "many"',
      'WEBHOOK_ALLOW_PRIVATE_URLS must be true or false, got "yes"',
      'GRAPHQL_HTTP must be one of direct, apollo, got "fast"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ]);
  });

  it('a provider half configured is reported with the gateway’s own problems', () => {
    const lines = problems({ PORT: '-1', TELNYX_API_KEY: 'KEY_x' });
    expect(lines[0]).toBe('PORT must be an integer from 0 to 65535, got "-1"');
    expect(lines[1]).toMatch(/^Telnyx is half configured: TELNYX_API_KEY is set but \w+ is missing$/);
  });

  it('URLs: the protocol is checked and a password never echoed', () => {
    expect(problems({ DATABASE_URL: 'mysql://u:hunter2@h/db' })).toEqual(['DATABASE_URL must start with postgres:// or postgresql://']);
    expect(problems({ REDIS_URL: 'not a url' })).toEqual(['REDIS_URL is not a URL: "not a url"']);
    expect(problems({ DATABASE_URL: '://u:hunter2@' }).join()).not.toContain('hunter2');
  });

  it('the embedded database may not take the machine’s PostgreSQL port, and SECRETS_KEY is checked', () => {
    expect(problems({ EMBEDDED_PG_PORT: '5432' })).toEqual(["EMBEDDED_PG_PORT must not be 5432: the machine's own PostgreSQL listens there"]);
    expect(problems({ SECRETS_KEY: 'nope' })[0]).toMatch(/^SECRETS_KEY must be comma-separated id:key pairs/);
  });

  it('ACCESS_TOKEN_KEYS: kid:secret pairs, secrets of 32 characters or more, no kid twice; the first signs', () => {
    expect(problems({ ACCESS_TOKEN_KEYS: 'nope' })[0]).toMatch(/^ACCESS_TOKEN_KEYS must be kid:secret pairs/);
    expect(problems({ ACCESS_TOKEN_KEYS: 'k1:short' })[0]).toMatch(/^ACCESS_TOKEN_KEYS the secret of kid "k1" must be at least 32 characters/);
    expect(problems({ ACCESS_TOKEN_KEYS: `k1:${'a'.repeat(32)},k1:${'b'.repeat(32)}` })[0]).toMatch(/names a kid twice/);
    const keys = loadConfig({ ACCESS_TOKEN_KEYS: `new:${'a'.repeat(32)}, old:${'b'.repeat(40)}` }).accessTokenKeys!.keys;
    expect(keys.map((key) => key.kid)).toEqual(['new', 'old']);
    expect(loadConfig({}).accessTokenKeys).toBeNull();
  });

  it('tuning values: the documented defaults, each variable read, the derived ones following the values they serve (overrides included)', () => {
    expect(loadConfig({}).tuning).toEqual({
      eventLogBatch: 1_000,
      eventSequenceIntervalMs: 10,
      replayPageSize: 500,
      streamBufferEvents: 1_000,
      providerSweepMs: 15_000,
      simulatorSweepMs: 5_000,
      webhookWorkers: 32,
      maxRequestBytes: 102_400,
      wsKeyRecheckMs: 5_000,
      documentCacheEntries: 2_000,
      documentCacheBytes: 33_554_432,
      authCacheMaxKeys: 10_000,
      retentionBatch: 5_000,
      retentionMaxBatches: 20,
      heavyReadsPerApplication: 2,
      heavyReadsWaiting: 64,
    });
    expect(
      loadConfig({
        EVENT_LOG_BATCH: '200',
        WEBHOOK_WORKERS: '4',
        MAX_REQUEST_BYTES: '2048',
        PROVIDER_SWEEP_MS: '700',
        WS_KEY_RECHECK_MS: '2500',
        HEAVY_READS_PER_APPLICATION: '3',
        HEAVY_READS_WAITING: '0',
      }).tuning,
    ).toMatchObject({
      heavyReadsPerApplication: 3,
      heavyReadsWaiting: 0,
      eventLogBatch: 200,
      webhookWorkers: 4,
      maxRequestBytes: 2_048,
      providerSweepMs: 700,
      wsKeyRecheckMs: 2_500,
    });
    // Derived: from the environment, and from overrides (tests set timeouts that way).
    expect(loadConfig({ COMMAND_TIMEOUT_MS: '400', SIMULATOR_TIME_SCALE: '2', AUTH_CACHE_TTL_MS: '0' }).tuning).toMatchObject({
      providerSweepMs: 100,
      simulatorSweepMs: 10_000,
      wsKeyRecheckMs: 1_000,
    });
    expect(loadConfig({}, { commandTimeoutMs: 300, callSetupTimeoutMs: 1_000, authCacheTtlMs: 60_000 }).tuning).toMatchObject({
      providerSweepMs: 75,
      wsKeyRecheckMs: 60_000,
    });
    expect(loadConfig({ WEBHOOK_DNS_SERVERS: '127.0.0.1:5353, ::1' })).toMatchObject({
      webhookDnsServers: ['127.0.0.1:5353', '::1'],
      webhookDnsTimeoutMs: 2_000,
    });
    expect(problems({ WEBHOOK_DNS_SERVERS: 'dns.example' })).toEqual([
      'WEBHOOK_DNS_SERVERS must be up to 8 comma-separated DNS server addresses (IP or IP:port), got "dns.example"',
    ]);
    expect(problems({ WEBHOOK_WORKERS: '0', DOCUMENT_CACHE_BYTES: '12' })).toEqual([
      'WEBHOOK_WORKERS must be an integer from 1 to 256, got "0"',
      'DOCUMENT_CACHE_BYTES must be an integer from 1048576 to 4294967296, got "12"',
    ]);
  });
});
