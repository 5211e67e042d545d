import { Migration } from '@mikro-orm/migrations';

/**
 * The sequencer plans its statements for the tables as they are at each run. PL/pgSQL caches a
 * generic plan per session after five runs; one made while `call_event` was nearly empty (a fresh
 * deployment) can join the pending events to the table by a full scan, and keep doing so as the
 * table grows. A run numbers up to a batch of events, so planning it each time costs little
 * (bench/event-log.ts measures the log with 1, 4 and 16 writers from an empty database).
 */
export class Migration20261202020000SequencerCustomPlans extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter function calls_gateway_sequence_events(integer, text) set plan_cache_mode = force_custom_plan;');
  }

  override async down(): Promise<void> {
    this.addSql('alter function calls_gateway_sequence_events(integer, text) reset plan_cache_mode;');
  }
}
