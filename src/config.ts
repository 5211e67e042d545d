import { ProviderConfigError, readProviderConfig, type ProviderConfig } from './providers/provider-config.js';
import { DEFAULT_RETRY_SCHEDULE_MS } from './webhooks/delivery-worker.js';
import { SecretBox } from './db/secret-box.js';
import type { ExecutorKind } from './graphql/executor.js';

/**
 * Configuration: read from the environment once, validated, frozen.
 * Every variable is documented in the README; a bad value stops the process with a message
 * that names the variable, instead of failing later in a request.
 */
export interface Config {
  /** HTTP + WebSocket port. 0 picks a free port (tests). */
  readonly port: number;
  readonly host: string;
  /** PostgreSQL URL; undefined means: start the embedded PostgreSQL. */
  readonly databaseUrl: string | undefined;
  /** Where the embedded PostgreSQL keeps its data. */
  readonly dataDir: string;
  /** Port of the embedded PostgreSQL (never 5432, which the machine's own server may hold). */
  readonly embeddedPgPort: number;
  readonly production: boolean;
  /** Size of the raw `pg` pool used by the hot paths. */
  readonly dbPoolSize: number;
  /** How long a verified API key is trusted without asking the database again. */
  readonly authCacheTtlMs: number;
  /** Refused credentials one client address may present per minute; past that it is refused without a lookup (0: no limit). */
  readonly authFailuresPerMinute: number;
  readonly redisUrl: string | undefined;
  /** Scales every simulated delay of test-mode calls (0.01: 100× faster). */
  readonly simulatorTimeScale: number;
  /**
   * Simulated callbacks (each a write) running at once; applications take turns for them, so one
   * tenant's burst of test calls delays its own lifecycles, not other requests (SIMULATOR_MAX_IN_FLIGHT).
   */
  readonly simulatorMaxInFlight: number;
  /** Safety-net poll of the event log (lost announcements, events of a process that died). */
  readonly eventPollMs: number;
  /** A command its provider has not confirmed after this long FAILS (a lost callback). */
  readonly commandTimeoutMs: number;
  /** A live call still INITIATED or RINGING after this long with no news ends FAILED ("provider_timeout"). */
  readonly callSetupTimeoutMs: number;
  /** Outbound webhooks: delay before attempt 1, 2, 3 … (WEBHOOK_RETRY_SCHEDULE_MS, comma-separated). */
  readonly webhookRetryScheduleMs: readonly number[];
  readonly webhookTimeoutMs: number;
  /** Endpoints (both modes) may resolve to loopback/private/link-local addresses (local development, tests). */
  readonly webhookAllowPrivateUrls: boolean;
  readonly webhookPollMs: number;
  /** Deliveries one endpoint may have in flight at once, across every process (of 16 workers per process). */
  readonly webhookMaxInFlightPerEndpoint: number;
  /** … and per application (a tenant's endpoints together). */
  readonly webhookMaxInFlightPerApplication: number;
  /** Requests (HTTP operations and WebSocket subscribes) per API key per minute; 0: no limit. */
  readonly rateLimitPerMinute: number;
  /** WebSocket: close with 4408 without connection_init within this long. */
  readonly wsInitTimeoutMs: number;
  /** Every socket is pinged this often; one that has not answered the previous ping is cut. */
  readonly wsKeepAliveMs: number;
  readonly wsMaxPayloadBytes: number;
  readonly wsMaxOperationsPerSocket: number;
  readonly wsMaxOperationsPerKey: number;
  /** Open WebSockets per API key and per client address, in one process. */
  readonly wsMaxConnectionsPerKey: number;
  readonly wsMaxConnectionsPerAddress: number;
  readonly wsSlowConsumerBytes: number;
  /** Days each kind of row is kept (0: for ever); see db/retention.ts. */
  readonly retention: { eventsDays: number; commandsDays: number; webhookDeliveriesDays: number; webhookResponseBodiesDays: number };
  /** How often retention runs (0: never). */
  readonly retentionSweepMs: number;
  /** How operations execute: compiled by graphql-jit (default) or interpreted by graphql-js (GRAPHQL_EXECUTOR). */
  readonly graphqlExecutor: ExecutorKind;
  /**
   * POST /graphql: plain queries and mutations answered by the operation pipeline, Apollo Server
   * for the rest (`direct`, default), or everything through Apollo Server (`apollo`). GRAPHQL_HTTP.
   */
  readonly graphqlHttp: 'direct' | 'apollo';
  /** Seals webhook signing secrets at rest (SECRETS_KEY); without it they are stored as they are. */
  readonly secrets: SecretBox;
  /** /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` when it is set. */
  readonly metricsToken: string | undefined;
  /** Live providers (Telnyx, LiveKit, WhatsApp); each is off unless its variables are set. */
  readonly providers: ProviderConfig;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function positiveNumber(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new ConfigError(`${name} must be a number above 0 and at most ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${redact(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

function redact(raw: string): string {
  return raw.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

function bool(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function schedule(env: Env, name: string): number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return [...DEFAULT_RETRY_SCHEDULE_MS];
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.length < 1 || values.length > 20 || values.some((value) => !Number.isInteger(value) || value < 0 || value > 86_400_000)) {
    throw new ConfigError(`${name} must be 1 to 20 comma-separated delays in ms (0 to 86400000), got "${raw}"`);
  }
  return values;
}

/** One of `values` (the first when unset). */
function oneOf<T extends string>(env: Env, name: string, values: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return values[0]!;
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
}

function executorKind(raw: string | undefined): ExecutorKind {
  if (raw === undefined || raw === '' || raw === 'jit') return 'jit';
  if (raw === 'graphql-js') return 'graphql-js';
  throw new ConfigError(`GRAPHQL_EXECUTOR must be jit or graphql-js, got "${raw}"`);
}

function secretBox(raw: string | undefined): SecretBox {
  try {
    return SecretBox.parse(raw);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function providers(env: Env): ProviderConfig {
  try {
    return readProviderConfig(env);
  } catch (error) {
    if (error instanceof ProviderConfigError) throw new ConfigError(error.message);
    throw error;
  }
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const embeddedPgPort = int(env, 'EMBEDDED_PG_PORT', 54329, 1024, 65535);
  if (embeddedPgPort === 5432) {
    throw new ConfigError('EMBEDDED_PG_PORT must not be 5432: the machine\'s own PostgreSQL listens there');
  }
  const config: Config = {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: env.DATA_DIR || './.data',
    embeddedPgPort,
    // Production unless told otherwise: a stray NODE_ENV (staging, prod, unset) must not turn on
    // introspection, GraphiQL, stack traces or the demo application.
    production: env.NODE_ENV !== 'development' && env.NODE_ENV !== 'test',
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    authCacheTtlMs: int(env, 'AUTH_CACHE_TTL_MS', 5_000, 0, 600_000),
    authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', 30, 0, 1_000_000),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    simulatorTimeScale: positiveNumber(env, 'SIMULATOR_TIME_SCALE', 1, 100),
    simulatorMaxInFlight: int(env, 'SIMULATOR_MAX_IN_FLIGHT', 4, 1, 64),
    eventPollMs: int(env, 'EVENT_POLL_MS', 1_000, 10, 60_000),
    commandTimeoutMs: int(env, 'COMMAND_TIMEOUT_MS', 60_000, 100, 3_600_000),
    callSetupTimeoutMs: int(env, 'CALL_SETUP_TIMEOUT_MS', 180_000, 1_000, 3_600_000),
    webhookRetryScheduleMs: schedule(env, 'WEBHOOK_RETRY_SCHEDULE_MS'),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 15_000, 100, 60_000),
    webhookAllowPrivateUrls: bool(env, 'WEBHOOK_ALLOW_PRIVATE_URLS'),
    webhookPollMs: int(env, 'WEBHOOK_POLL_MS', 1_000, 10, 60_000),
    webhookMaxInFlightPerEndpoint: int(env, 'WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT', 4, 1, 16),
    webhookMaxInFlightPerApplication: int(env, 'WEBHOOK_MAX_IN_FLIGHT_PER_APPLICATION', 8, 1, 1_000),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 120, 0, 1_000_000),
    wsInitTimeoutMs: int(env, 'WS_INIT_TIMEOUT_MS', 5_000, 100, 60_000),
    wsKeepAliveMs: int(env, 'WS_KEEPALIVE_MS', 12_000, 100, 600_000),
    wsMaxPayloadBytes: int(env, 'WS_MAX_PAYLOAD_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    wsMaxOperationsPerSocket: int(env, 'WS_MAX_OPERATIONS_PER_SOCKET', 20, 1, 10_000),
    wsMaxOperationsPerKey: int(env, 'WS_MAX_OPERATIONS_PER_KEY', 1_000, 1, 1_000_000),
    wsMaxConnectionsPerKey: int(env, 'WS_MAX_CONNECTIONS_PER_KEY', 200, 1, 1_000_000),
    wsMaxConnectionsPerAddress: int(env, 'WS_MAX_CONNECTIONS_PER_ADDRESS', 500, 1, 1_000_000),
    wsSlowConsumerBytes: int(env, 'WS_SLOW_CONSUMER_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    metricsToken: env.METRICS_TOKEN || undefined,
    secrets: secretBox(env.SECRETS_KEY),
    graphqlExecutor: executorKind(env.GRAPHQL_EXECUTOR),
    graphqlHttp: oneOf(env, 'GRAPHQL_HTTP', ['direct', 'apollo'] as const),
    retention: {
      eventsDays: int(env, 'RETENTION_EVENTS_DAYS', 90, 0, 36_500),
      commandsDays: int(env, 'RETENTION_COMMANDS_DAYS', 90, 0, 36_500),
      webhookDeliveriesDays: int(env, 'RETENTION_WEBHOOK_DELIVERIES_DAYS', 30, 0, 36_500),
      webhookResponseBodiesDays: int(env, 'RETENTION_WEBHOOK_RESPONSE_BODIES_DAYS', 7, 0, 36_500),
    },
    retentionSweepMs: int(env, 'RETENTION_SWEEP_MS', 3_600_000, 0, 86_400_000),
    providers: providers(env),
    ...overrides,
  };
  return Object.freeze(config);
}
