import { Migration } from '@mikro-orm/migrations';

/**
 * The spine's schema: applications, API keys (hashes only), phone numbers, calls and the call
 * event log. Generated from the entities with MikroORM's schema generator, then reviewed.
 */
export class Migration20261123000000Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "application" ("id" varchar(32) not null, "name" varchar(200) not null, "created_at" timestamptz(3) not null default now(), constraint "application_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create table "api_key" ("id" varchar(40) not null, "app_id" varchar(32) not null, "mode" text check ("mode" in ('test', 'live')) not null, "hash" varchar(64) not null, "display_prefix" varchar(32) not null, "created_at" timestamptz(3) not null default now(), "revoked_at" timestamptz(3) null, constraint "api_key_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "api_key" add constraint "api_key_hash_unique" unique ("hash");`);
    this.addSql(`create index "api_key_app_id_index" on "api_key" ("app_id");`);
    this.addSql(
      `create table "call" ("id" varchar(40) not null, "app_id" varchar(32) not null, "mode" text check ("mode" in ('test', 'live')) not null, "direction" text check ("direction" in ('outbound', 'inbound')) not null, "status" text check ("status" in ('initiated', 'ringing', 'in_progress', 'voicemail', 'completed', 'failed', 'busy', 'no_answer', 'canceled')) not null, "from_address" varchar(128) not null, "to_address" varchar(128) not null, "from_channel" text check ("from_channel" in ('pstn', 'webrtc', 'whatsapp')) not null, "to_channel" text check ("to_channel" in ('pstn', 'webrtc', 'whatsapp')) not null, "duration" int null, "end_reason" varchar(64) null, "metadata" jsonb not null default '{}', "livekit_room_name" varchar(64) null, "started_at" timestamptz(3) null, "answered_at" timestamptz(3) null, "ended_at" timestamptz(3) null, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "idempotency_key" varchar(255) null, "request_fingerprint" varchar(64) null, "last_sequence" int not null default 1, constraint "call_pkey" primary key ("id"));`,
    );
    this.addSql(`create unique index "call_idempotency_key_unique" on "call" ("app_id", "mode", "idempotency_key") where "idempotency_key" is not null;`);
    this.addSql(`create index "call_metadata_gin_idx" on "call" using gin ("metadata" jsonb_path_ops);`);
    this.addSql(`create index "call_tenant_status_created_idx" on "call" ("app_id", "mode", "status", "created_at", "id");`);
    this.addSql(`create index "call_tenant_created_idx" on "call" ("app_id", "mode", "created_at", "id");`);
    this.addSql(
      `create table "call_event" ("id" varchar(40) not null, "call_id" varchar(40) not null, "app_id" varchar(32) not null, "mode" text check ("mode" in ('test', 'live')) not null, "sequence" int not null, "status" text check ("status" in ('initiated', 'ringing', 'in_progress', 'voicemail', 'completed', 'failed', 'busy', 'no_answer', 'canceled')) not null, "previous_status" text check ("previous_status" in ('initiated', 'ringing', 'in_progress', 'voicemail', 'completed', 'failed', 'busy', 'no_answer', 'canceled')) null, "occurred_at" timestamptz(3) not null default now(), "position" bigserial, constraint "call_event_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "call_event" add constraint "call_event_position_unique" unique ("position");`);
    this.addSql(`create index "call_event_tenant_position_idx" on "call_event" ("app_id", "mode", "position");`);
    this.addSql(`alter table "call_event" add constraint "call_event_call_sequence_unique" unique ("call_id", "sequence");`);
    this.addSql(
      `create table "phone_number" ("id" varchar(40) not null, "number" varchar(16) not null, "app_id" varchar(32) not null, "created_at" timestamptz(3) not null default now(), constraint "phone_number_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "phone_number" add constraint "phone_number_number_unique" unique ("number");`);
    this.addSql(`create index "phone_number_app_id_number_index" on "phone_number" ("app_id", "number");`);
    this.addSql(
      `alter table "api_key" add constraint "api_key_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "call" add constraint "call_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "call_event" add constraint "call_event_call_id_foreign" foreign key ("call_id") references "call" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "phone_number" add constraint "phone_number_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "call_event" cascade;');
    this.addSql('drop table if exists "call" cascade;');
    this.addSql('drop table if exists "phone_number" cascade;');
    this.addSql('drop table if exists "api_key" cascade;');
    this.addSql('drop table if exists "application" cascade;');
  }
}
