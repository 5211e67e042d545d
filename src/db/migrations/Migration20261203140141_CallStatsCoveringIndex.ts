import { Migration } from '@mikro-orm/migrations';

/**
 * callStats (issue 15) reads every column it groups by or sums from the (app_id, mode, created_at)
 * index: the index now INCLUDEs them, so stats over a range are an index-only scan. Written by
 * hand: the schema diff compares index names and columns, not an expression index's INCLUDE list.
 */
export class Migration20261203140141_CallStatsCoveringIndex extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop index if exists "call_tenant_created_idx";`);
    this.addSql(
      `create index "call_tenant_created_idx" on "call" ("app_id", "mode", "created_at", "id") include ("status", "direction", "from_channel", "to_channel", "end_reason", "answered_at", "duration");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "call_tenant_created_idx";`);
    this.addSql(`create index "call_tenant_created_idx" on "call" ("app_id", "mode", "created_at", "id");`);
  }
}
