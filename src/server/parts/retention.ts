import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { Retention } from '../../db/retention.js';
import type { Logger } from '../../domain/logger.js';
import { PeriodicRunner } from '../../shared/runners.js';
import type { Shutdown } from '../shutdown.js';

/** Retention: old events, commands and deliveries are deleted, in bounded batches, one run at a time. */
export function startRetention(config: Config, database: Database, logger: Logger, shutdown: Shutdown): void {
  if (config.retentionSweepMs <= 0) return;
  const retention = new Retention(database.sql, config.retention, { batch: config.tuning.retentionBatch, maxBatches: config.tuning.retentionMaxBatches });
  const runner = new PeriodicRunner(async () => {
    try {
      const deleted = await retention.run();
      if (Object.values(deleted).some((count) => count > 0)) logger.info('retention run', deleted);
    } catch (error) {
      logger.error('retention run failed; the next one will retry', { error: (error as Error).message });
    }
  }, config.retentionSweepMs).start();
  shutdown.add('retention', () => runner.stop());
}
