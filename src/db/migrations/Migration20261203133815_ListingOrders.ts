import { Migration } from '@mikro-orm/migrations';

/**
 * calls(orderBy:) by STARTED_AT, ENDED_AT and DURATION (issue 15): one index each, in the tenant and
 * in keyset order; partial (IS NOT NULL), as the listings are, so a new call costs them nothing.
 */
export class Migration20261203133815_ListingOrders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "call_tenant_duration_idx" on "call" ("app_id", "mode", "duration", "id") where "duration" is not null;`);
    this.addSql(`create index "call_tenant_ended_idx" on "call" ("app_id", "mode", "ended_at", "id") where "ended_at" is not null;`);
    this.addSql(`create index "call_tenant_started_idx" on "call" ("app_id", "mode", "started_at", "id") where "started_at" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "call_tenant_duration_idx";`);
    this.addSql(`drop index "call_tenant_ended_idx";`);
    this.addSql(`drop index "call_tenant_started_idx";`);
  }
}
