import {
  bool,
  delays,
  describedDefault,
  dnsServers,
  integer,
  oneOf,
  optionalText,
  parsed,
  positive,
  refined,
  text,
  url,
  variable,
  type Variable,
} from './parsers.js';
import { parseAccessTokenKeys, type AccessTokenKeys } from '../shared/access-token-keys.js';
import { parseSecretKeys, type SecretKey } from '../shared/secret-keys.js';

/**
 * Every environment variable of the gateway, once: its name, how it is read (type, range,
 * default) and one line of documentation. `Config` (config.ts) is the type of what these read,
 * and docs/environment.md is rendered from them (test/unit/environment-doc.test.ts).
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const GRAPHQL_EXECUTORS = ['jit', 'graphql-js'] as const;

/** Attempts 1…8 wait 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
const RETRY_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export const GATEWAY = {
  port: variable('PORT', integer(4000, 0, 65_535), 'HTTP and WebSocket port'),
  host: variable('HOST', text('0.0.0.0'), 'listen address'),
  databaseUrl: variable('DATABASE_URL', url(['postgres:', 'postgresql:']), 'PostgreSQL URL; unset: the embedded PostgreSQL'),
  dataDir: variable('DATA_DIR', text('./.data'), 'where the embedded PostgreSQL keeps its data (and `access-token.key`)'),
  embeddedPgPort: variable(
    'EMBEDDED_PG_PORT',
    refined(integer(54_329, 1024, 65_535), (port) => port !== 5432, "must not be 5432: the machine's own PostgreSQL listens there"),
    'port of the embedded PostgreSQL (5432 is refused: the machine’s own server may hold it)',
  ),
  embeddedPgLog: variable('EMBEDDED_PG_LOG', bool, "the embedded PostgreSQL's own log lines go to the gateway's log (noise at start, off)"),
  // Production unless told otherwise: a stray NODE_ENV (staging, prod, unset) must not turn on
  // introspection, GraphiQL, stack traces or the demo application.
  production: variable(
    'NODE_ENV',
    describedDefault(
      parsed(true, '', (raw) => raw !== 'development' && raw !== 'test'),
      'production',
    ),
    'anything but `development` or `test` is production: no introspection, GraphiQL or stack traces, generic internal errors, no demo application (`npm start` sets `development`)',
  ),
  dbPoolSize: variable('DB_POOL_SIZE', integer(10, 1, 200), "connections of the request path's pool"),
  authCacheTtlMs: variable('AUTH_CACHE_TTL_MS', integer(5_000, 0, 600_000), 'how long a verified key is trusted without a lookup (0: never)'),
  authFailuresPerMinute: variable(
    'AUTH_FAILURES_PER_MINUTE',
    integer(30, 0, 1_000_000),
    'refused keys one client address may present per minute before it is refused without a lookup, and origins no application allows it may have looked up (preflights, upgrades); 0: off',
  ),
  redisUrl: variable('REDIS_URL', url(['redis:', 'rediss:']), 'Redis event bus (and shared rate limit) instead of PostgreSQL LISTEN/NOTIFY'),
  simulatorTimeScale: variable('SIMULATOR_TIME_SCALE', positive(1, 1_000), 'scales the simulated delays of test calls (0.01: 100× faster, 1000: 1000× slower)'),
  simulatorMaxInFlight: variable(
    'SIMULATOR_MAX_IN_FLIGHT',
    integer(4, 1, 64),
    'simulated callbacks (transitions, confirmations) running at once; applications take turns',
  ),
  eventPollMs: variable('EVENT_POLL_MS', integer(1_000, 10, 60_000), 'safety-net poll of the event log'),
  commandTimeoutMs: variable('COMMAND_TIMEOUT_MS', integer(60_000, 100, 3_600_000), 'a command its provider has not confirmed by then FAILS'),
  callSetupTimeoutMs: variable(
    'CALL_SETUP_TIMEOUT_MS',
    integer(180_000, 1_000, 3_600_000),
    'a live call still INITIATED or RINGING with no news by then ends FAILED (`provider_timeout`)',
  ),
  webhookRetryScheduleMs: variable('WEBHOOK_RETRY_SCHEDULE_MS', delays(RETRY_SCHEDULE_MS, 20), 'delay before each delivery attempt'),
  webhookTimeoutMs: variable('WEBHOOK_TIMEOUT_MS', integer(15_000, 100, 60_000), 'per attempt, in all (connect, send, answer, body)'),
  federation: variable(
    'FEDERATION',
    bool,
    'serve the schema as an Apollo Federation 2 subgraph (`Call` an entity keyed by `id`, `_entities`, `_service`), for a router in front',
  ),
  webhookAllowPrivateUrls: variable(
    'WEBHOOK_ALLOW_PRIVATE_URLS',
    bool,
    "endpoints (both modes) may resolve to private addresses (local development; names then go through the system's resolver, `/etc/hosts` included)",
  ),
  webhookDnsServers: variable(
    'WEBHOOK_DNS_SERVERS',
    dnsServers,
    'the DNS servers webhook and status-callback names are resolved with (IP or IP:port, comma-separated)',
  ),
  webhookDnsTimeoutMs: variable('WEBHOOK_DNS_TIMEOUT_MS', integer(2_000, 50, 30_000), 'the time one lookup may take before the URL is refused'),
  webhookPollMs: variable('WEBHOOK_POLL_MS', integer(1_000, 10, 60_000), 'how often workers look for due deliveries besides being woken'),
  webhookMaxInFlightPerEndpoint: variable(
    'WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT',
    integer(4, 1, 16),
    'deliveries of one endpoint in flight at once, across processes',
  ),
  webhookMaxInFlightPerApplication: variable(
    'WEBHOOK_MAX_IN_FLIGHT_PER_APPLICATION',
    integer(8, 1, 1_000),
    'deliveries of one application in flight at once, across processes',
  ),
  rateLimitPerMinute: variable(
    'RATE_LIMIT_PER_MINUTE',
    integer(120, 0, 1_000_000),
    'requests per API key per minute (HTTP operations and WebSocket subscribes); 0: off',
  ),
  rateLimitTokenSharePercent: variable(
    'RATE_LIMIT_TOKEN_SHARE',
    integer(25, 1, 100),
    "each access token's own budget, in percent of its key's `RATE_LIMIT_PER_MINUTE` (and of `HEAVY_READS_PER_APPLICATION` / `HEAVY_READS_WAITING`, at least one read); all tokens of a key together have at most the key's budget, counted apart from the key's own requests",
  ),
  otelEndpoint: variable(
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    url(['http:', 'https:'], { trimSlash: true }),
    'OpenTelemetry: the OTLP/HTTP collector (traces go to `<it>/v1/traces`); unset (and no `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): tracing is off and costs nothing',
  ),
  otelTracesEndpoint: variable(
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    url(['http:', 'https:']),
    'OpenTelemetry: the full URL traces are sent to (overrides the one above)',
  ),
  otelProtocol: variable(
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    oneOf(['http/protobuf', 'http/json'] as const),
    'OpenTelemetry: how spans are encoded (gRPC is not offered)',
  ),
  otelServiceName: variable('OTEL_SERVICE_NAME', text('calls-gateway'), "OpenTelemetry: the `service.name` of the gateway's spans"),
  otelSampler: variable(
    'OTEL_TRACES_SAMPLER',
    oneOf(['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'] as const),
    "OpenTelemetry: which traces are kept (a call's later spans follow the decision taken for the request that created it)",
  ),
  otelSamplerArg: variable(
    'OTEL_TRACES_SAMPLER_ARG',
    refined(
      parsed(1, '1', (raw) => Number(raw)),
      (ratio) => ratio >= 0 && ratio <= 1,
      'must be a number from 0 to 1',
    ),
    'OpenTelemetry: the ratio of the `traceidratio` samplers, 0 to 1',
  ),
  otelDisabled: variable('OTEL_SDK_DISABLED', bool, 'OpenTelemetry: true turns tracing off whatever else is set'),
  traceClientContext: variable(
    'TRACE_CLIENT_CONTEXT',
    oneOf(['trust', 'link'] as const),
    "a request's `traceparent`: `trust` continues the client's trace; `link` starts a new trace linked to it (for a public endpoint whose clients should not choose trace ids or sampling)",
  ),
  trustedDocumentsPerApplication: variable(
    'TRUSTED_DOCUMENTS_PER_APPLICATION',
    integer(1_000, 1, 100_000),
    'documents one application may register (`calls-gateway documents push`); each is at most `MAX_REQUEST_BYTES`',
  ),
  wsInitTimeoutMs: variable('WS_INIT_TIMEOUT_MS', integer(5_000, 100, 60_000), 'WebSocket: time to send `connection_init` (else 4408)'),
  wsKeepAliveMs: variable(
    'WS_KEEPALIVE_MS',
    integer(12_000, 100, 600_000),
    'WebSocket: every socket is pinged this often; one that did not answer the previous ping is cut',
  ),
  wsMaxPayloadBytes: variable('WS_MAX_PAYLOAD_BYTES', integer(64 * 1024, 1024, 16 * 1024 * 1024), 'WebSocket: largest frame (else close 1009)'),
  wsMaxOperationsPerSocket: variable('WS_MAX_OPERATIONS_PER_SOCKET', integer(20, 1, 10_000), 'operations at once per socket'),
  wsMaxOperationsPerKey: variable('WS_MAX_OPERATIONS_PER_KEY', integer(1_000, 1, 1_000_000), 'operations at once per key (per process)'),
  wsMaxConnectionsPerKey: variable('WS_MAX_CONNECTIONS_PER_KEY', integer(200, 1, 1_000_000), 'open sockets per key (per process); past it: close 4429'),
  wsMaxConnectionsPerToken: variable(
    'WS_MAX_CONNECTIONS_PER_TOKEN',
    integer(10, 1, 10_000),
    "an access token's own open sockets (per process), instead of its minting key's",
  ),
  wsMaxOperationsPerToken: variable(
    'WS_MAX_OPERATIONS_PER_TOKEN',
    integer(100, 1, 100_000),
    "an access token's own operations at once (per process), instead of its minting key's",
  ),
  wsMaxConnectionsPerAddress: variable(
    'WS_MAX_CONNECTIONS_PER_ADDRESS',
    integer(500, 1, 1_000_000),
    'open sockets per client address (per process); past it: close 4429',
  ),
  wsSlowConsumerBytes: variable(
    'WS_SLOW_CONSUMER_BYTES',
    integer(4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    'unsent bytes after which a WebSocket client is cut off',
  ),
  metricsToken: variable('METRICS_TOKEN', optionalText, '`/metrics` requires `Authorization: Bearer <token>`'),
  secretKeys: variable(
    'SECRETS_KEY',
    parsed<readonly SecretKey[]>([], 'unset', parseSecretKeys),
    '`id:base64-32-bytes[,id:key…]`: seals webhook signing secrets at rest; the first seals, all open',
  ),
  accessTokenKeys: variable(
    'ACCESS_TOKEN_KEYS',
    parsed<AccessTokenKeys | null>(null, 'unset', parseAccessTokenKeys),
    '`kid:secret[,kid:secret…]` (secrets ≥ 32 characters): signs access tokens (HS256); the first signs, all verify. Unset: `DATA_DIR/access-token.key`, generated there on first use outside production (only read in production); with neither, access tokens are off',
  ),
  graphqlExecutor: variable(
    'GRAPHQL_EXECUTOR',
    oneOf(GRAPHQL_EXECUTORS),
    '`jit`: operations compiled by graphql-jit (graphql-js for what it refuses); `graphql-js`: interpreted',
  ),
  graphqlHttp: variable(
    'GRAPHQL_HTTP',
    oneOf(['direct', 'apollo'] as const),
    '`direct`: plain POST queries and mutations answered by the operation pipeline, Apollo Server for the rest; `apollo`: every request through Apollo Server',
  ),
  retentionSweepMs: variable('RETENTION_SWEEP_MS', integer(3_600_000, 0, 86_400_000), 'how often retention runs; 0: never'),
  logLevel: variable('LOG_LEVEL', oneOf(LOG_LEVELS, 'info'), 'pino level (`warn` drops the one-line-per-request log)'),
} as const;

export const RETENTION = {
  eventsDays: variable('RETENTION_EVENTS_DAYS', integer(90, 0, 36_500), "call events (but a call's last) are deleted after this many days; 0: kept"),
  commandsDays: variable('RETENTION_COMMANDS_DAYS', integer(90, 0, 36_500), 'settled commands are deleted after this many days; 0: kept'),
  webhookDeliveriesDays: variable(
    'RETENTION_WEBHOOK_DELIVERIES_DAYS',
    integer(30, 0, 36_500),
    'ended webhook deliveries (with their attempts) are deleted after this many days; 0: kept',
  ),
  webhookResponseBodiesDays: variable(
    'RETENTION_WEBHOOK_RESPONSE_BODIES_DAYS',
    integer(7, 0, 36_500),
    'stored webhook response bodies are dropped after this many days; 0: kept',
  ),
} as const;

/** The sizes, batches and intervals of the machinery: the defaults are the measured ones; change them when a measurement says so. */
export const TUNING = {
  eventLogBatch: variable('EVENT_LOG_BATCH', integer(1_000, 1, 100_000), 'events the log numbers and hands out per round'),
  eventSequenceIntervalMs: variable(
    'EVENT_SEQUENCE_INTERVAL_MS',
    integer(10, 0, 1_000),
    'the least time between two numbering runs of the event log: a write after a quiet spell is numbered at once, and under load one run numbers what this long wrote',
  ),
  replayPageSize: variable('REPLAY_PAGE_SIZE', integer(500, 10, 10_000), 'events read per page when a `callStatus` subscription replays from a cursor'),
  streamBufferEvents: variable(
    'STREAM_BUFFER_EVENTS',
    integer(1_000, 10, 1_000_000),
    'live events one subscription holds while it replays; past that it drops them and reads the log again from its last event (nothing is lost, memory stays bounded)',
  ),
  providerSweepMs: variable(
    'PROVIDER_SWEEP_MS',
    describedDefault(integer(0, 0, 3_600_000), 'a quarter of the shorter of `COMMAND_TIMEOUT_MS` and `CALL_SETUP_TIMEOUT_MS`, 50 ms to 15 s'),
    'how often lost provider callbacks are looked for',
  ),
  simulatorSweepMs: variable(
    'SIMULATOR_SWEEP_MS',
    describedDefault(integer(0, 0, 3_600_000), '5000 × `SIMULATOR_TIME_SCALE`, at least 1000'),
    'how often the simulator resumes test calls a restart interrupted',
  ),
  webhookWorkers: variable('WEBHOOK_WORKERS', integer(32, 1, 256), 'outbound webhook deliveries one process runs at once'),
  maxRequestBytes: variable('MAX_REQUEST_BYTES', integer(100 * 1024, 1024, 16 * 1024 * 1024), 'largest `/graphql` request body (else 413)'),
  wsKeyRecheckMs: variable(
    'WS_KEY_RECHECK_MS',
    describedDefault(integer(0, 0, 3_600_000), '`AUTH_CACHE_TTL_MS`, at least 1000'),
    "how often an open WebSocket's key is checked again (a revoked key's sockets close within it)",
  ),
  documentCacheEntries: variable('DOCUMENT_CACHE_ENTRIES', integer(2_000, 1, 1_000_000), 'parsed and validated documents kept (both transports)'),
  documentCacheBytes: variable(
    'DOCUMENT_CACHE_BYTES',
    integer(32 * 1024 * 1024, 1024 * 1024, 4 * 1024 * 1024 * 1024),
    'the estimated size the kept documents may take',
  ),
  authCacheMaxKeys: variable(
    'AUTH_CACHE_MAX_KEYS',
    integer(10_000, 1, 10_000_000),
    'keys the authenticator remembers (verified, unknown, refused addresses), each',
  ),
  retentionBatch: variable('RETENTION_BATCH', integer(5_000, 1, 1_000_000), 'rows retention deletes per statement'),
  retentionMaxBatches: variable('RETENTION_MAX_BATCHES', integer(20, 1, 10_000), 'statements retention sends per kind and run'),
  heavyReadsPerApplication: variable(
    'HEAVY_READS_PER_APPLICATION',
    integer(2, 1, 1_000),
    "`callStats` and `totalCount` reads one application's keys run at once in a process (its access tokens together as many again, apart)",
  ),
  heavyReadsWaiting: variable('HEAVY_READS_WAITING', integer(64, 0, 100_000), 'more such reads that may wait; beyond, `RATE_LIMITED`'),
} as const;

/** What a group of variables reads: one value per entry, of its parser's type. */
export type ValuesOf<G extends Record<string, Variable<unknown>>> = { readonly [K in keyof G]: G[K] extends Variable<infer T> ? T : never };
