import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 25: trusted documents. The operations an application registers (`calls-gateway documents
 * push`), keyed by the SHA-256 of their text, and who must use them (`apps documents --set`):
 * every existing application keeps ANY, so nothing changes until its operator says so.
 */
export class Migration20261207184057_TrustedDocuments extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "trusted_document" ("app_id" varchar(32) not null, "id" varchar(71) not null, "body" text not null, "created_at" timestamptz(3) not null default now(), constraint "trusted_document_pkey" primary key ("app_id", "id"));`,
    );

    this.addSql(
      `alter table "trusted_document" add constraint "trusted_document_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "application" add column "documents_policy" text check ("documents_policy" in ('ANY', 'TRUSTED_FOR_TOKENS', 'TRUSTED_ONLY')) not null default 'ANY';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "trusted_document" cascade;`);

    this.addSql(`alter table "application" drop column "documents_policy";`);
  }
}
