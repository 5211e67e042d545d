import type express from 'express';
import { Kind, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '../domain/logger.js';
import { sameSecret } from '../domain/constant-time.js';

export interface OperationsSources {
  /** Open callStatus subscriptions of this process. */
  subscriptions(): number;
  /** Events the database's log holds beyond what this process has delivered. */
  eventLogLag(): number;
  pool(): { total: number; idle: number; waiting: number };
  webhookQueueDepth(): Promise<number>;
  /** Resolves when the database answers (required for readiness). */
  database(): Promise<void>;
  /** Resolves when the event bus answers (optional: without it, events still arrive through the log's poll). */
  eventBus(): Promise<void>;
}

/** What one operation leaves in the metrics and the log. */
export interface OperationRecord {
  transport: 'http' | 'ws';
  /** The operation that ran; undefined when the document was refused before one was chosen. */
  operation: OperationDefinitionNode | undefined;
  operationName: string | null;
  requestId: string | undefined;
  principal: { appId: string; mode: string } | undefined;
  /** The result's data (its payloads' userErrors make the outcome user_error). */
  data: Record<string, unknown> | null | undefined;
  errorCodes: unknown[] | undefined;
  seconds: number;
}

export interface OperationsOptions {
  /** When set, /metrics answers only `Authorization: Bearer <token>` (METRICS_TOKEN). */
  metricsToken?: string;
  /** Each readiness check answers within this long or counts as down. */
  probeTimeoutMs?: number;
}

/** How long the webhook queue's depth (a count, capped) is reused between scrapes. */
const QUEUE_DEPTH_TTL_MS = 15_000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * What operators see: Prometheus metrics at /metrics (prom-client), /healthz (the process is
 * up) and /readyz (the database answers; an event bus that does not is reported as degraded, not
 * unready: events still arrive through the log's poll), and one structured log line per GraphQL
 * request (request id, application, operation, outcome, duration; never the key).
 *
 * Bounded: the `operation` label is the operation's root field (a schema name, so a closed set),
 * never the client-chosen operation name; probes time out and never print internals; the queue
 * depth is a capped count reused for 15 s, not a count(*) per scrape.
 */
export class Operations {
  readonly registry = new Registry();
  private readonly operations = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by root field, type, outcome (ok, user_error, error) and transport (http, ws).',
    labelNames: ['operation', 'type', 'outcome', 'transport'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'Time from receiving a GraphQL operation to sending its response (resolvers included; for a subscription, until it is set up), by type and transport.',
    labelNames: ['type', 'transport'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private queueDepth = { value: 0, at: 0 };
  /**
   * Label sets bound once (prom-client hashes the label object on every inc/observe otherwise).
   * Bounded: root fields are schema names, the other labels closed sets.
   */
  private readonly bound = new Map<string, { count: { inc(): void }; time: { observe(value: number): void } }>();

  constructor(
    private readonly sources: OperationsSources,
    private readonly logger: Logger,
    private readonly options: OperationsOptions = {},
  ) {
    collectDefaultMetrics({ register: this.registry });
    const depth = () => this.cachedQueueDepth();
    const registers = [this.registry];
    new Gauge({
      name: 'callstatus_subscriptions_active',
      help: 'Open callStatus subscriptions in this process.',
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });
    new Gauge({
      name: 'event_log_lag_events',
      help: 'Events committed to the log that this process has not yet delivered to subscribers.',
      registers,
      collect() {
        this.set(sources.eventLogLag());
      },
    });
    new Gauge({
      name: 'db_pool_connections',
      help: "Connections of the request path's PostgreSQL pool, by state.",
      labelNames: ['state'],
      registers,
      collect() {
        const pool = sources.pool();
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Gauge({
      name: 'webhook_queue_depth',
      help: 'Webhook deliveries waiting for an attempt (all processes; counted at most every 15 s, capped at 100,000).',
      registers,
      async collect() {
        this.set(await depth());
      },
    });
  }

  private async cachedQueueDepth(): Promise<number> {
    if (Date.now() - this.queueDepth.at >= QUEUE_DEPTH_TTL_MS) {
      this.queueDepth = { value: await this.sources.webhookQueueDepth().catch(() => this.queueDepth.value), at: Date.now() };
    }
    return this.queueDepth.value;
  }

  mount(app: express.Express): void {
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    app.get('/readyz', async (_req, res) => {
      const timeout = this.options.probeTimeoutMs ?? 1_000;
      const check = (probe: () => Promise<void>) =>
        within(probe(), timeout).then(
          () => 'ok' as const,
          () => 'down' as const,
        );
      const [database, eventBus] = await Promise.all([check(() => this.sources.database()), check(() => this.sources.eventBus())]);
      if (database === 'down' || eventBus === 'down') this.logger.warn('readiness check failed', { database, eventBus });
      // What answers, never why not: the reason is in the log.
      if (database === 'down') res.status(503).json({ status: 'unavailable', checks: { database, eventBus } });
      else if (eventBus === 'down') res.json({ status: 'degraded', checks: { database, eventBus } });
      else res.json({ status: 'ready' });
    });
    app.get('/metrics', async (req, res) => {
      if (this.options.metricsToken && !sameSecret(req.headers.authorization ?? '', `Bearer ${this.options.metricsToken}`)) {
        res.status(401).set('www-authenticate', 'Bearer').end();
        return;
      }
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }

  /**
   * One operation's metrics and log line, the same for HTTP and WebSocket (the operation
   * pipeline's last step, server/pipeline.ts): counted by root field, type, outcome and
   * transport, timed, logged once.
   */
  record(operation: OperationRecord): void {
    const type = operation.operation?.operation ?? 'invalid';
    const data = operation.data;
    const userErrors = data
      ? Object.values(data).some(
          (value) => Array.isArray((value as { userErrors?: unknown[] } | null)?.userErrors) && (value as { userErrors: unknown[] }).userErrors.length > 0,
        )
      : false;
    const outcome = operation.errorCodes?.length ? 'error' : userErrors ? 'user_error' : 'ok';
    const root = rootFieldLabel(operation.operation);
    const key = `${root}\u0000${type}\u0000${outcome}\u0000${operation.transport}`;
    let metrics = this.bound.get(key);
    if (!metrics) {
      metrics = {
        count: this.operations.labels({ operation: root, type, outcome, transport: operation.transport }),
        time: this.latency.labels({ type, transport: operation.transport }),
      };
      this.bound.set(key, metrics);
    }
    metrics.count.inc();
    metrics.time.observe(operation.seconds);
    this.logger.info('graphql request', {
      requestId: operation.requestId,
      transport: operation.transport,
      appId: operation.principal?.appId,
      mode: operation.principal?.mode,
      operation: operation.operationName,
      type,
      outcome,
      errorCodes: operation.errorCodes,
      durationMs: Math.round(operation.seconds * 10_000) / 10,
    });
  }
}

/** The operation's root field (`calls`, `createCall` …): a schema name, so the label's values are a closed set. */
function rootFieldLabel(operation: OperationDefinitionNode | undefined): string {
  const fields = operation?.selectionSet.selections.filter((selection) => selection.kind === Kind.FIELD) ?? [];
  if (fields.length === 0) return 'other';
  const names = new Set(fields.map((field) => (field as FieldNode).name.value));
  return names.size === 1 ? [...names][0]! : 'multiple';
}
