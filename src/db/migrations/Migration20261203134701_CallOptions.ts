import { Migration } from '@mikro-orm/migrations';

/**
 * createCall options (issue 15): ringTimeout, timeLimit, callerName, machineDetection and
 * recordFromAnswer, stored as given (jsonb, {} for calls without them), and machine detection's result.
 */
export class Migration20261203134701_CallOptions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "call" add column "options" jsonb not null default '{}', add column "answered_by" text check ("answered_by" in ('human', 'machine', 'fax', 'unknown')) null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "call" drop column "options", drop column "answered_by";`);
  }
}
