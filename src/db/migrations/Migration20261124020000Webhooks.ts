import { Migration } from '@mikro-orm/migrations';

/**
 * Outbound webhooks. The queue is PostgreSQL itself: deliveries are rows, claimed with
 * FOR UPDATE SKIP LOCKED and a lease, so several gateway processes share the work and a process
 * that dies mid-delivery loses nothing (its lease runs out and another process retries).
 * `webhook_cursor` is how far the log has been fanned out: moved in the same transaction as the
 * deliveries it creates, so each event becomes each endpoint's delivery exactly once.
 */
export class Migration20261124020000Webhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "webhook_endpoint" (
      "id" varchar(40) not null,
      "app_id" varchar(32) not null,
      "mode" text check ("mode" in ('test', 'live')) not null,
      "url" varchar(2048) not null,
      "events" text[] not null default '{}',
      "secret" varchar(100) not null,
      "previous_secret" varchar(100) null,
      "previous_secret_expires_at" timestamptz(3) null,
      "disabled_at" timestamptz(3) null,
      "disabled_reason" text null,
      "failing_since" timestamptz(3) null,
      "created_at" timestamptz(3) not null default now(),
      "updated_at" timestamptz(3) not null default now(),
      constraint "webhook_endpoint_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_endpoint_tenant_idx" on "webhook_endpoint" ("app_id", "mode");`);
    this.addSql(`create table "webhook_delivery" (
      "id" varchar(40) not null,
      "endpoint_id" varchar(40) not null references "webhook_endpoint" ("id") on delete cascade,
      "app_id" varchar(32) not null,
      "mode" text check ("mode" in ('test', 'live')) not null,
      "event_id" varchar(40) not null,
      "call_id" varchar(40) not null,
      "event_type" varchar(40) not null,
      "payload" jsonb not null,
      "status" varchar(16) not null check ("status" in ('pending', 'delivered', 'failed')),
      "attempts" int not null default 0,
      "next_attempt_at" timestamptz(3) not null default now(),
      "locked_until" timestamptz(3) null,
      "created_at" timestamptz(3) not null default now(),
      "delivered_at" timestamptz(3) null,
      constraint "webhook_delivery_pkey" primary key ("id"));`);
    this.addSql(`create unique index "webhook_delivery_event_unique" on "webhook_delivery" ("endpoint_id", "event_id");`);
    this.addSql(`create index "webhook_delivery_due_idx" on "webhook_delivery" ("next_attempt_at") where "status" = 'pending';`);
    this.addSql(`create index "webhook_delivery_tenant_idx" on "webhook_delivery" ("app_id", "mode", "created_at", "id");`);
    this.addSql(`create table "webhook_attempt" (
      "id" bigserial,
      "delivery_id" varchar(40) not null references "webhook_delivery" ("id") on delete cascade,
      "attempted_at" timestamptz(3) not null default now(),
      "status_code" int null,
      "latency_ms" int not null,
      "error" text null,
      "response_body" text null,
      constraint "webhook_attempt_pkey" primary key ("id"));`);
    this.addSql(`create index "webhook_attempt_delivery_idx" on "webhook_attempt" ("delivery_id", "id");`);
    this.addSql(
      `create table "webhook_cursor" ("name" varchar(32) not null, "position" bigint not null, constraint "webhook_cursor_pkey" primary key ("name"));`,
    );
    // Fan-out starts at the head of the log: events from before webhooks existed are not sent.
    this.addSql(`insert into "webhook_cursor" ("name", "position") select 'deliveries', coalesce(max("position"), 0) from "call_event";`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webhook_cursor";`);
    this.addSql(`drop table if exists "webhook_attempt";`);
    this.addSql(`drop table if exists "webhook_delivery";`);
    this.addSql(`drop table if exists "webhook_endpoint";`);
  }
}
