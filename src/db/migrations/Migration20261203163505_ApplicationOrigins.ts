import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 16: the browser origins each application allows (CORS for its access tokens), set with
 * `calls-gateway apps origins`. Empty for every existing application: no browser origin is
 * allowed until the operator says so.
 */
export class Migration20261203163505_ApplicationOrigins extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "application" add column "allowed_origins" text[] not null default '{}';`);
    this.addSql(`create index "application_allowed_origins_idx" on "application" using gin ("allowed_origins");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "application_allowed_origins_idx";`);
    this.addSql(`alter table "application" drop column "allowed_origins";`);
  }
}
