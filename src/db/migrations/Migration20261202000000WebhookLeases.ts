import { Migration } from '@mikro-orm/migrations';

/** Deliveries under lease, per endpoint: the claim caps how many one endpoint holds at once. */
export class Migration20261202000000WebhookLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "webhook_delivery_leased_idx" on "webhook_delivery" ("endpoint_id", "locked_until") where "status" = 'pending' and "locked_until" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "webhook_delivery_leased_idx";`);
  }
}
