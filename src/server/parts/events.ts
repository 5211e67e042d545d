import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { PgEventBus } from '../../db/pg-event-bus.js';
import { PgEventLog } from '../../db/pg-event-log.js';
import type { CallLifecycle } from '../../domain/call-lifecycle.js';
import type { Logger } from '../../domain/logger.js';
import type { EventBus } from '../../events/event-bus.js';
import { EventLog } from '../../events/event-log.js';
import { RedisEventBus } from '../../events/redis-event-bus.js';
import type { Shutdown } from '../shutdown.js';

export interface EventParts {
  bus: EventBus & { simulateConnectionLoss(): Promise<void> };
  eventLog: EventLog;
}

/**
 * The event bus (Redis, or PostgreSQL LISTEN/NOTIFY) and the event log that numbers every
 * committed event and hands it to this process's subscribers (events/event-log.ts).
 */
export async function startEvents(config: Config, database: Database, lifecycle: CallLifecycle, logger: Logger, shutdown: Shutdown): Promise<EventParts> {
  const bus = config.redisUrl ? new RedisEventBus(config.redisUrl, logger) : new PgEventBus(database.url, database.sql, logger);
  await bus.start();
  shutdown.add('event bus', () => bus.close());
  const eventLog = new EventLog(new PgEventLog(database.sql), bus, logger, {
    pollMs: config.eventPollMs,
    batch: config.tuning.eventLogBatch,
    sequenceIntervalMs: config.tuning.eventSequenceIntervalMs,
  });
  await eventLog.start();
  shutdown.add('event log', () => eventLog.stop());
  // Every applied transition is committed when apply() returns: number it and announce it.
  lifecycle.onEventsWritten(() => eventLog.kick());
  return { bus, eventLog };
}
