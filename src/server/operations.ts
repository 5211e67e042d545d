import type express from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../graphql/context.js';
import type { Logger } from './logger.js';

export interface OperationsSources {
  /** Open callStatus subscriptions of this process. */
  subscriptions(): number;
  /** Events the database's log holds beyond what this process has delivered. */
  eventLogLag(): number;
  pool(): { total: number; idle: number; waiting: number };
  webhookQueueDepth(): Promise<number>;
  /** Resolves when the database and the event bus answer. */
  ready(): Promise<void>;
}

/**
 * What operators see: Prometheus metrics at /metrics (prom-client), /healthz (the process is
 * up) and /readyz (the database and the event bus answer), and one structured log line per
 * GraphQL request (request id, application, operation, outcome, duration; never the key).
 */
export class Operations {
  readonly registry = new Registry();
  private readonly operations = new Counter({ name: 'graphql_operations_total', help: 'GraphQL operations by name, type and outcome (ok, user_error, error).', labelNames: ['operation', 'type', 'outcome'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'Time from receiving a GraphQL operation to sending its response (resolvers included), by type.',
    labelNames: ['type'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(
    private readonly sources: OperationsSources,
    private readonly logger: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Gauge({ name: 'callstatus_subscriptions_active', help: 'Open callStatus subscriptions in this process.', registers, collect() { this.set(sources.subscriptions()); } });
    new Gauge({ name: 'event_log_lag_events', help: 'Events committed to the log that this process has not yet delivered to subscribers.', registers, collect() { this.set(sources.eventLogLag()); } });
    new Gauge({
      name: 'db_pool_connections',
      help: 'Connections of the request path\'s PostgreSQL pool, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = sources.pool();
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
    new Gauge({ name: 'webhook_queue_depth', help: 'Webhook deliveries waiting for an attempt (all processes).', registers, async collect() { this.set(await sources.webhookQueueDepth()); } });
  }

  mount(app: express.Express): void {
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    app.get('/readyz', async (_req, res) => {
      try {
        await this.sources.ready();
        res.json({ status: 'ready' });
      } catch (error) {
        res.status(503).json({ status: 'unavailable', reason: (error as Error).message });
      }
    });
    app.get('/metrics', async (_req, res) => {
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }

  /** Counts, times and logs every HTTP GraphQL operation. */
  plugin(): ApolloServerPlugin<GatewayContext> {
    const operations = this.operations;
    const latency = this.latency;
    const logger = this.logger;
    return {
      async requestDidStart() {
        const started = process.hrtime.bigint();
        return {
          // The detail of an unexpected failure goes to the log, with the request id; the client
          // sees a generic INTERNAL_SERVER_ERROR in production (graphql/errors.ts).
          async didEncounterErrors({ contextValue, errors, operationName }) {
            for (const error of errors) {
              const code = error.extensions?.code;
              if (code && code !== 'INTERNAL_SERVER_ERROR') continue;
              if (error.originalError && 'argument' in error.originalError) continue;
              logger.error('operation failed', { requestId: contextValue?.requestId, operation: operationName ?? null, error: String(error.originalError?.stack ?? error.stack ?? error) });
            }
          },
          async willSendResponse({ contextValue, operation, operationName, response, errors }) {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const type = operation?.operation ?? 'invalid';
            const data = response.body.kind === 'single' ? response.body.singleResult.data : undefined;
            const userErrors = data ? Object.values(data).some((value) => Array.isArray((value as { userErrors?: unknown[] } | null)?.userErrors) && (value as { userErrors: unknown[] }).userErrors.length > 0) : false;
            const outcome = errors?.length ? 'error' : userErrors ? 'user_error' : 'ok';
            operations.inc({ operation: operationName ?? 'anonymous', type, outcome });
            latency.observe({ type }, seconds);
            logger.info('graphql request', {
              requestId: contextValue?.requestId,
              appId: contextValue?.principal?.appId,
              mode: contextValue?.principal?.mode,
              operation: operationName ?? null,
              type,
              outcome,
              errorCodes: errors?.map((error) => error.extensions?.code),
              durationMs: Math.round(seconds * 10_000) / 10,
            });
          },
        };
      },
    };
  }
}
