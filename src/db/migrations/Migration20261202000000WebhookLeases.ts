import { Migration } from '@mikro-orm/migrations';

/** Deliveries under lease: the claim caps how many one endpoint, and one application, hold at once. */
export class Migration20261202000000WebhookLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "webhook_delivery_leased_idx" on "webhook_delivery" ("app_id", "endpoint_id", "locked_until") where "status" = 'pending' and "locked_until" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "webhook_delivery_leased_idx";`);
  }
}
