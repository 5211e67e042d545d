import { ProviderConfigError, readProviderConfig, type ProviderConfig } from './providers/provider-config.js';
import { DEFAULT_RETRY_SCHEDULE_MS } from './customer-webhooks/delivery-worker.js';
import { SecretBox } from './db/secret-box.js';
import type { ExecutorKind } from './graphql/executor.js';
import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { parseAccessTokenKeys, type AccessTokenKeys } from './domain/access-tokens.js';

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
  /** DNS servers webhook names are resolved with (WEBHOOK_DNS_SERVERS; default the system's), and the time one lookup may take (WEBHOOK_DNS_TIMEOUT_MS). */
  readonly webhookDnsServers: readonly string[];
  readonly webhookDnsTimeoutMs: number;
  readonly webhookPollMs: number;
  /** Deliveries one endpoint may have in flight at once, across every process (of WEBHOOK_WORKERS per process). */
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
  /** An access token's own caps (WS_MAX_CONNECTIONS_PER_TOKEN, WS_MAX_OPERATIONS_PER_TOKEN): token holders do not share their minting key's. */
  readonly wsMaxConnectionsPerToken: number;
  readonly wsMaxOperationsPerToken: number;
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
  /** The keys access tokens are signed with (ACCESS_TOKEN_KEYS); null: see resolveAccessTokenKeys. */
  readonly accessTokenKeys: AccessTokenKeys | null;
  /** /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` when it is set. */
  readonly metricsToken: string | undefined;
  /** Live providers (Telnyx, LiveKit, WhatsApp); each is off unless its variables are set. */
  readonly providers: ProviderConfig;
  /** pino's level for the JSON log lines (LOG_LEVEL). */
  readonly logLevel: LogLevel;
  /** Sizes, batches and intervals of the machinery; the defaults are the measured ones (README, "Tuning"). */
  readonly tuning: Tuning;
}

/** Every tuning value of the gateway's parts, one variable each (README, "Tuning"). */
interface Tuning {
  /** Events the log numbers and hands out per round (EVENT_LOG_BATCH). */
  readonly eventLogBatch: number;
  /** How long the log waits after a kick so one round numbers a burst of writes (EVENT_SEQUENCE_DELAY_MS). */
  readonly eventSequenceDelayMs: number;
  /** Events read per page when a subscription replays from a cursor (REPLAY_PAGE_SIZE). */
  readonly replayPageSize: number;
  /** Live events one subscription holds while it replays; past that it rereads the log instead (STREAM_BUFFER_EVENTS). */
  readonly streamBufferEvents: number;
  /** How often lost provider callbacks are looked for (PROVIDER_SWEEP_MS; default: a quarter of the shorter timeout, 50 ms to 15 s). */
  readonly providerSweepMs: number;
  /** How often the simulator resumes test calls a restart interrupted (SIMULATOR_SWEEP_MS; default 5 s × SIMULATOR_TIME_SCALE, at least 1 s). */
  readonly simulatorSweepMs: number;
  /** Outbound webhook deliveries one process runs at once (WEBHOOK_WORKERS). */
  readonly webhookWorkers: number;
  /** Largest POST /graphql body (MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
  /** How often an open WebSocket's key is checked again (WS_KEY_RECHECK_MS; default the key cache's TTL, at least 1 s). */
  readonly wsKeyRecheckMs: number;
  /** Parsed and validated documents kept, by count and by estimated bytes (DOCUMENT_CACHE_ENTRIES, DOCUMENT_CACHE_BYTES). */
  readonly documentCacheEntries: number;
  readonly documentCacheBytes: number;
  /** Keys the authenticator remembers (verified, unknown, failing addresses), each (AUTH_CACHE_MAX_KEYS). */
  readonly authCacheMaxKeys: number;
  /** Rows retention deletes per statement, and statements per kind and run (RETENTION_BATCH, RETENTION_MAX_BATCHES). */
  readonly retentionBatch: number;
  readonly retentionMaxBatches: number;
  /** callStats and totalCount reads one application runs at once in a process, and may have waiting (HEAVY_READS_PER_APPLICATION, HEAVY_READS_WAITING). */
  readonly heavyReadsPerApplication: number;
  readonly heavyReadsWaiting: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

// Each variable's schema: unset or empty takes the default; a bad value is an issue that names
// what the variable must be and what it got. zod collects every issue of the environment at once,
// so an operator sees all bad variables in one message, one line each.
const unset = (raw: string | undefined): raw is undefined | '' => raw === undefined || raw === '';
const fail = (ctx: z.RefinementCtx, message: string) => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

function integer(fallback: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return fallback;
      const value = Number(raw);
      return Number.isInteger(value) && value >= min && value <= max ? value : fail(ctx, `must be an integer from ${min} to ${max}, got "${raw}"`);
    });
}

function positive(fallback: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return fallback;
      const value = Number(raw);
      return Number.isFinite(value) && value > 0 && value <= max ? value : fail(ctx, `must be a number above 0 and at most ${max}, got "${raw}"`);
    });
}

function url(protocols: string[]) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return undefined;
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        return fail(ctx, `is not a URL: "${redact(raw)}"`);
      }
      return protocols.includes(parsed.protocol) ? raw : fail(ctx, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    });
}

function redact(raw: string): string {
  return raw.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

const bool = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (unset(raw) || raw === 'false' || raw === '0') return false;
    return raw === 'true' || raw === '1' ? true : fail(ctx, `must be true or false, got "${raw}"`);
  });

function oneOf<T extends string>(values: readonly T[], fallback: T = values[0]!) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (unset(raw)) return fallback;
      return (values as readonly string[]).includes(raw) ? (raw as T) : fail(ctx, `must be one of ${values.join(', ')}, got "${raw}"`);
    });
}

const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((raw) => (unset(raw) ? fallback : raw));

const retrySchedule = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (unset(raw)) return [...DEFAULT_RETRY_SCHEDULE_MS];
    const values = raw.split(',').map((part) => Number(part.trim()));
    if (values.length < 1 || values.length > 20 || values.some((value) => !Number.isInteger(value) || value < 0 || value > 86_400_000)) {
      return fail(ctx, `must be 1 to 20 comma-separated delays in ms (0 to 86400000), got "${raw}"`);
    }
    return values;
  });

const dnsServers = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (unset(raw)) return [] as string[];
    const servers = raw.split(',').map((part) => part.trim());
    // What dns.Resolver.setServers takes: an IP address, [IPv6]:port or IPv4:port.
    const valid = (server: string) => isIP(server) !== 0 || /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/.test(server);
    if (servers.length > 8 || !servers.every(valid)) return fail(ctx, `must be up to 8 comma-separated DNS server addresses (IP or IP:port), got "${raw}"`);
    return servers;
  });

const secrets = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    try {
      return SecretBox.parse(raw);
    } catch (error) {
      return fail(ctx, (error as Error).message.replace(/^SECRETS_KEY /, ''));
    }
  });

const tokenKeys = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (unset(raw)) return null;
    try {
      return parseAccessTokenKeys(raw);
    } catch (error) {
      return fail(ctx, (error as Error).message);
    }
  });

/** The gateway's variables (the providers' are read by providers/provider-config.ts, below). */
const ENV = z.object({
  PORT: integer(4000, 0, 65535),
  HOST: text('0.0.0.0'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATA_DIR: text('./.data'),
  EMBEDDED_PG_PORT: integer(54329, 1024, 65535).refine((port) => port !== 5432, "must not be 5432: the machine's own PostgreSQL listens there"),
  NODE_ENV: z.string().optional(),
  DB_POOL_SIZE: integer(10, 1, 200),
  AUTH_CACHE_TTL_MS: integer(5_000, 0, 600_000),
  AUTH_FAILURES_PER_MINUTE: integer(30, 0, 1_000_000),
  REDIS_URL: url(['redis:', 'rediss:']),
  SIMULATOR_TIME_SCALE: positive(1, 100),
  SIMULATOR_MAX_IN_FLIGHT: integer(4, 1, 64),
  EVENT_POLL_MS: integer(1_000, 10, 60_000),
  COMMAND_TIMEOUT_MS: integer(60_000, 100, 3_600_000),
  CALL_SETUP_TIMEOUT_MS: integer(180_000, 1_000, 3_600_000),
  WEBHOOK_RETRY_SCHEDULE_MS: retrySchedule,
  WEBHOOK_TIMEOUT_MS: integer(15_000, 100, 60_000),
  WEBHOOK_ALLOW_PRIVATE_URLS: bool,
  WEBHOOK_DNS_SERVERS: dnsServers,
  WEBHOOK_DNS_TIMEOUT_MS: integer(2_000, 50, 30_000),
  WEBHOOK_POLL_MS: integer(1_000, 10, 60_000),
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: integer(4, 1, 16),
  WEBHOOK_MAX_IN_FLIGHT_PER_APPLICATION: integer(8, 1, 1_000),
  RATE_LIMIT_PER_MINUTE: integer(120, 0, 1_000_000),
  WS_INIT_TIMEOUT_MS: integer(5_000, 100, 60_000),
  WS_KEEPALIVE_MS: integer(12_000, 100, 600_000),
  WS_MAX_PAYLOAD_BYTES: integer(64 * 1024, 1024, 16 * 1024 * 1024),
  WS_MAX_OPERATIONS_PER_SOCKET: integer(20, 1, 10_000),
  WS_MAX_OPERATIONS_PER_KEY: integer(1_000, 1, 1_000_000),
  WS_MAX_CONNECTIONS_PER_KEY: integer(200, 1, 1_000_000),
  WS_MAX_CONNECTIONS_PER_TOKEN: integer(10, 1, 10_000),
  WS_MAX_OPERATIONS_PER_TOKEN: integer(100, 1, 100_000),
  WS_MAX_CONNECTIONS_PER_ADDRESS: integer(500, 1, 1_000_000),
  WS_SLOW_CONSUMER_BYTES: integer(4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  METRICS_TOKEN: text(''),
  SECRETS_KEY: secrets,
  ACCESS_TOKEN_KEYS: tokenKeys,
  GRAPHQL_EXECUTOR: oneOf<ExecutorKind>(['jit', 'graphql-js']),
  GRAPHQL_HTTP: oneOf(['direct', 'apollo'] as const),
  RETENTION_EVENTS_DAYS: integer(90, 0, 36_500),
  RETENTION_COMMANDS_DAYS: integer(90, 0, 36_500),
  RETENTION_WEBHOOK_DELIVERIES_DAYS: integer(30, 0, 36_500),
  RETENTION_WEBHOOK_RESPONSE_BODIES_DAYS: integer(7, 0, 36_500),
  RETENTION_SWEEP_MS: integer(3_600_000, 0, 86_400_000),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  EVENT_LOG_BATCH: integer(1_000, 1, 100_000),
  EVENT_SEQUENCE_DELAY_MS: integer(2, 0, 1_000),
  REPLAY_PAGE_SIZE: integer(500, 10, 10_000),
  STREAM_BUFFER_EVENTS: integer(1_000, 10, 1_000_000),
  PROVIDER_SWEEP_MS: integer(0, 0, 3_600_000),
  SIMULATOR_SWEEP_MS: integer(0, 0, 3_600_000),
  WEBHOOK_WORKERS: integer(16, 1, 256),
  MAX_REQUEST_BYTES: integer(100 * 1024, 1024, 16 * 1024 * 1024),
  WS_KEY_RECHECK_MS: integer(0, 0, 3_600_000),
  DOCUMENT_CACHE_ENTRIES: integer(2_000, 1, 1_000_000),
  DOCUMENT_CACHE_BYTES: integer(32 * 1024 * 1024, 1024 * 1024, 4 * 1024 * 1024 * 1024),
  AUTH_CACHE_MAX_KEYS: integer(10_000, 1, 10_000_000),
  RETENTION_BATCH: integer(5_000, 1, 1_000_000),
  RETENTION_MAX_BATCHES: integer(20, 1, 10_000),
  HEAVY_READS_PER_APPLICATION: integer(2, 1, 1_000),
  HEAVY_READS_WAITING: integer(64, 0, 100_000),
});

/**
 * The configuration of this process: every variable parsed in one place. A bad environment
 * throws one ConfigError listing every bad variable, one per line (`NAME must be …, got "…"`).
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = ENV.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
  let providers: ProviderConfig | undefined;
  try {
    providers = readProviderConfig(env);
  } catch (error) {
    if (!(error instanceof ProviderConfigError)) throw error;
    problems.push(error.message);
  }
  if (!parsed.success || !providers || problems.length) throw new ConfigError(problems.join('\n'));
  const e = parsed.data;
  const { tuning: tuningOverride, ...rest } = overrides;
  const config: Omit<Config, 'tuning'> = {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    // Production unless told otherwise: a stray NODE_ENV (staging, prod, unset) must not turn on
    // introspection, GraphiQL, stack traces or the demo application.
    production: e.NODE_ENV !== 'development' && e.NODE_ENV !== 'test',
    dbPoolSize: e.DB_POOL_SIZE,
    authCacheTtlMs: e.AUTH_CACHE_TTL_MS,
    authFailuresPerMinute: e.AUTH_FAILURES_PER_MINUTE,
    redisUrl: e.REDIS_URL,
    simulatorTimeScale: e.SIMULATOR_TIME_SCALE,
    simulatorMaxInFlight: e.SIMULATOR_MAX_IN_FLIGHT,
    eventPollMs: e.EVENT_POLL_MS,
    commandTimeoutMs: e.COMMAND_TIMEOUT_MS,
    callSetupTimeoutMs: e.CALL_SETUP_TIMEOUT_MS,
    webhookRetryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE_MS,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookAllowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
    webhookDnsServers: e.WEBHOOK_DNS_SERVERS,
    webhookDnsTimeoutMs: e.WEBHOOK_DNS_TIMEOUT_MS,
    webhookPollMs: e.WEBHOOK_POLL_MS,
    webhookMaxInFlightPerEndpoint: e.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
    webhookMaxInFlightPerApplication: e.WEBHOOK_MAX_IN_FLIGHT_PER_APPLICATION,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    wsInitTimeoutMs: e.WS_INIT_TIMEOUT_MS,
    wsKeepAliveMs: e.WS_KEEPALIVE_MS,
    wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
    wsMaxOperationsPerSocket: e.WS_MAX_OPERATIONS_PER_SOCKET,
    wsMaxOperationsPerKey: e.WS_MAX_OPERATIONS_PER_KEY,
    wsMaxConnectionsPerKey: e.WS_MAX_CONNECTIONS_PER_KEY,
    wsMaxConnectionsPerToken: e.WS_MAX_CONNECTIONS_PER_TOKEN,
    wsMaxOperationsPerToken: e.WS_MAX_OPERATIONS_PER_TOKEN,
    wsMaxConnectionsPerAddress: e.WS_MAX_CONNECTIONS_PER_ADDRESS,
    wsSlowConsumerBytes: e.WS_SLOW_CONSUMER_BYTES,
    metricsToken: e.METRICS_TOKEN || undefined,
    secrets: e.SECRETS_KEY,
    accessTokenKeys: e.ACCESS_TOKEN_KEYS,
    graphqlExecutor: e.GRAPHQL_EXECUTOR,
    graphqlHttp: e.GRAPHQL_HTTP,
    retention: {
      eventsDays: e.RETENTION_EVENTS_DAYS,
      commandsDays: e.RETENTION_COMMANDS_DAYS,
      webhookDeliveriesDays: e.RETENTION_WEBHOOK_DELIVERIES_DAYS,
      webhookResponseBodiesDays: e.RETENTION_WEBHOOK_RESPONSE_BODIES_DAYS,
    },
    retentionSweepMs: e.RETENTION_SWEEP_MS,
    providers,
    logLevel: e.LOG_LEVEL,
    ...rest,
  };
  // After the overrides: the derived values follow the timeouts a test or bench sets.
  const tuning: Tuning = tuningOverride ?? {
    eventLogBatch: e.EVENT_LOG_BATCH,
    eventSequenceDelayMs: e.EVENT_SEQUENCE_DELAY_MS,
    replayPageSize: e.REPLAY_PAGE_SIZE,
    streamBufferEvents: e.STREAM_BUFFER_EVENTS,
    // 0 (unset): derived from the values they serve.
    providerSweepMs: e.PROVIDER_SWEEP_MS || Math.min(15_000, Math.max(50, Math.min(config.commandTimeoutMs, config.callSetupTimeoutMs) / 4)),
    simulatorSweepMs: e.SIMULATOR_SWEEP_MS || Math.max(1_000, 5_000 * config.simulatorTimeScale),
    webhookWorkers: e.WEBHOOK_WORKERS,
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    wsKeyRecheckMs: e.WS_KEY_RECHECK_MS || Math.max(1_000, config.authCacheTtlMs),
    documentCacheEntries: e.DOCUMENT_CACHE_ENTRIES,
    documentCacheBytes: e.DOCUMENT_CACHE_BYTES,
    authCacheMaxKeys: e.AUTH_CACHE_MAX_KEYS,
    retentionBatch: e.RETENTION_BATCH,
    retentionMaxBatches: e.RETENTION_MAX_BATCHES,
    heavyReadsPerApplication: e.HEAVY_READS_PER_APPLICATION,
    heavyReadsWaiting: e.HEAVY_READS_WAITING,
  };
  return Object.freeze({ ...config, tuning });
}

/**
 * The keys access tokens are signed and verified with: ACCESS_TOKEN_KEYS when set. Without it,
 * DATA_DIR/access-token.key (mode 0600): outside production it is generated on first use, so
 * `npm start` and the CLI on this machine share one key (the CLI runs as production unless
 * NODE_ENV says otherwise, and still finds it); in production it is only read, never made, so a
 * deployment without ACCESS_TOKEN_KEYS and without that file has none (createAccessToken says it
 * is not configured, and no token is accepted: every process must share the keys, so they are the
 * operator's to give).
 */
export function resolveAccessTokenKeys(config: Pick<Config, 'accessTokenKeys' | 'production' | 'dataDir'>): AccessTokenKeys | null {
  if (config.accessTokenKeys) return config.accessTokenKeys;
  const file = path.resolve(config.dataDir, 'access-token.key');
  try {
    return parseAccessTokenKeys(readFileSync(file, 'utf8'));
  } catch {
    if (config.production) return null;
    mkdirSync(path.dirname(file), { recursive: true });
    // Written whole under another name, then linked: two processes starting at once agree on one key.
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temporary, `dev:${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    try {
      linkSync(temporary, file);
    } catch {
      // Another process linked its key first.
    } finally {
      unlinkSync(temporary);
    }
    return parseAccessTokenKeys(readFileSync(file, 'utf8'));
  }
}
