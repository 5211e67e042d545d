import type { Config } from '../../config.js';
import { DeliveryWorker, WebhookDispatcher } from '../../customer-webhooks/delivery-worker.js';
import { DnsUrlGuard, PublicResolver } from '../../customer-webhooks/url-guard.js';
import type { Database } from '../../db/database.js';
import { PgWebhookQueue } from '../../db/pg-webhook-queue.js';
import { PgWebhookStore } from '../../db/pg-webhook-store.js';
import type { Logger } from '../../domain/logger.js';
import type { EventLog } from '../../events/event-log.js';
import type { Shutdown } from '../shutdown.js';
import { SecretBox } from '../../db/secret-box.js';

export interface CustomerWebhookParts {
  webhookStore: PgWebhookStore;
  urlGuard: DnsUrlGuard;
  webhookQueue: PgWebhookQueue;
  dispatcher: WebhookDispatcher;
}

/** Outbound webhooks: the log is fanned out to deliveries whenever its head moves; workers send them. */
export function startCustomerWebhooks(config: Config, database: Database, eventLog: EventLog, logger: Logger, shutdown: Shutdown): CustomerWebhookParts {
  const secrets = new SecretBox(config.secretKeys);
  const webhookStore = new PgWebhookStore(database.sql, database.orm.em, secrets);
  if (!secrets.enabled && config.production) logger.warn('SECRETS_KEY is not set: webhook signing secrets are stored unencrypted');
  const webhookQueue = new PgWebhookQueue(database.sql, secrets);
  const resolver = new PublicResolver({ servers: config.webhookDnsServers, timeoutMs: config.webhookDnsTimeoutMs });
  const deliveryWorker = new DeliveryWorker(webhookQueue, logger, {
    resolver,
    retryScheduleMs: config.webhookRetryScheduleMs,
    timeoutMs: config.webhookTimeoutMs,
    allowPrivate: config.webhookAllowPrivateUrls,
    pollMs: config.webhookPollMs,
    concurrency: config.tuning.webhookWorkers,
    perEndpoint: config.webhookMaxInFlightPerEndpoint,
    perApplication: config.webhookMaxInFlightPerApplication,
  });
  const dispatcher = new WebhookDispatcher(webhookQueue, deliveryWorker, logger);
  eventLog.onAdvance(() => dispatcher.kick());
  deliveryWorker.start();
  shutdown.add('webhook delivery', () => deliveryWorker.stop());
  dispatcher.kick();
  shutdown.add('webhook dispatcher', () => dispatcher.stop());
  return { webhookStore, urlGuard: new DnsUrlGuard(resolver, logger), webhookQueue, dispatcher };
}
