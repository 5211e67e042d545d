import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 25: a call keeps the W3C traceparent of the request that created it (when tracing is on),
 * so its later status changes, fan-out and webhook deliveries join the same trace. Nullable and
 * without a default: adding it rewrites nothing, and calls made with tracing off keep null.
 */
export class Migration20261207190713_CallTraceParent extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "call" add column "trace_parent" varchar(55) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "call" drop column "trace_parent";`);
  }
}
