import { Migration } from '@mikro-orm/migrations';

/**
 * Retention (db/retention.ts) finds old rows by time. BRIN indexes: these columns grow with
 * insertion order, so a BRIN index is a few pages and costs almost nothing per insert, where a
 * b-tree on call_event would slow every createCall.
 */
export class Migration20261202010000Retention extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "call_event_occurred_brin" on "call_event" using brin ("occurred_at");`);
    this.addSql(`create index "call_command_created_brin" on "call_command" using brin ("created_at");`);
    this.addSql(`create index "webhook_delivery_created_brin" on "webhook_delivery" using brin ("created_at");`);
    this.addSql(`create index "webhook_attempt_attempted_brin" on "webhook_attempt" using brin ("attempted_at");`);
  }

  override async down(): Promise<void> {
    for (const name of ['call_event_occurred_brin', 'call_command_created_brin', 'webhook_delivery_created_brin', 'webhook_attempt_attempted_brin']) {
      this.addSql(`drop index if exists "${name}";`);
    }
  }
}
