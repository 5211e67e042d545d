import { Migration } from '@mikro-orm/migrations';

/**
 * createCall's statusCallbackUrl (issue 15): a call's own endpoint is a webhook_endpoint row with
 * its call_id, signed with the tenant's status-callback secret (its own table). The application's
 * endpoints get a partial index of their own (added by hand: the schema diff does not compare the
 * WHERE of an index it already has), so a tenant's many call endpoints never lengthen the fan-out's
 * lookup of its application endpoints.
 */
export class Migration20261203141542_StatusCallbacks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "status_callback_secret" ("app_id" varchar(32) not null, "mode" text check ("mode" in ('test', 'live')) not null, "secret" varchar(100) not null, "previous_secret" varchar(100) null, "previous_secret_expires_at" timestamptz(3) null, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), constraint "status_callback_secret_pkey" primary key ("app_id", "mode"));`,
    );

    this.addSql(
      `alter table "status_callback_secret" add constraint "status_callback_secret_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "webhook_endpoint" add column "call_id" varchar(40) null;`);
    this.addSql(`create index "webhook_endpoint_call_idx" on "webhook_endpoint" ("call_id") where "call_id" is not null;`);
    this.addSql(`drop index if exists "webhook_endpoint_tenant_idx";`);
    this.addSql(`create index "webhook_endpoint_tenant_idx" on "webhook_endpoint" ("app_id", "mode") where "call_id" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "status_callback_secret" cascade;`);

    this.addSql(`drop index "webhook_endpoint_call_idx";`);
    this.addSql(`drop index if exists "webhook_endpoint_tenant_idx";`);
    this.addSql(`create index "webhook_endpoint_tenant_idx" on "webhook_endpoint" ("app_id", "mode");`);
    this.addSql(`alter table "webhook_endpoint" drop column "call_id";`);
  }
}
