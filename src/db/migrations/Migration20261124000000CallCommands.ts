import { Migration } from '@mikro-orm/migrations';

/**
 * Call commands, recordings and provider references.
 * - `call` gains the flags commands set (on hold, muted legs, the recording in progress, where
 *   it was transferred) and the provider that carries it, with the provider's own id for it
 *   (Telnyx call_control_id, WhatsApp call id) so callbacks find it.
 * - `call_event` gains a type: besides status changes, a call's timeline has HELD, MUTED,
 *   RECORDING_STARTED … events, each on the same gap-free per-call sequence.
 * - `call_command`: every accepted command, ACCEPTED → APPLIED | FAILED. At most one pending
 *   command of a type per call is a constraint (a partial unique index), not a check-then-act.
 * - `recording`: one row per startRecording, saved by the provider's callback.
 */
export class Migration20261124000000CallCommands extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "call"
      add column "provider" varchar(32) null,
      add column "provider_call_id" varchar(256) null,
      add column "on_hold" boolean not null default false,
      add column "muted_legs" text[] not null default '{}',
      add column "recording_id" varchar(40) null,
      add column "transferred_to" varchar(128) null,
      add column "transferred_to_channel" text check ("transferred_to_channel" in ('pstn', 'webrtc', 'whatsapp')) null;`);
    this.addSql(`update "call" set "provider" = 'simulator' where "mode" = 'test';`);
    this.addSql(`create unique index "call_provider_ref_unique" on "call" ("provider", "provider_call_id") where "provider_call_id" is not null;`);
    this.addSql(`alter table "call_event"
      add column "type" varchar(32) not null default 'status_changed',
      add column "command_id" varchar(40) null;`);
    this.addSql(`create table "call_command" (
      "id" varchar(40) not null,
      "call_id" varchar(40) not null references "call" ("id") on delete cascade,
      "app_id" varchar(32) not null,
      "mode" text check ("mode" in ('test', 'live')) not null,
      "type" varchar(32) not null,
      "status" varchar(16) not null check ("status" in ('accepted', 'queued', 'applied', 'failed')),
      "args" jsonb not null default '{}',
      "error" text null,
      "created_at" timestamptz(3) not null default now(),
      "updated_at" timestamptz(3) not null default now(),
      constraint "call_command_pkey" primary key ("id"));`);
    this.addSql(`create index "call_command_call_idx" on "call_command" ("app_id", "mode", "call_id", "created_at");`);
    this.addSql(`create unique index "call_command_pending_unique" on "call_command" ("call_id", "type") where "status" in ('accepted', 'queued');`);
    this.addSql(`create table "recording" (
      "id" varchar(40) not null,
      "call_id" varchar(40) not null references "call" ("id") on delete cascade,
      "app_id" varchar(32) not null,
      "mode" text check ("mode" in ('test', 'live')) not null,
      "format" varchar(8) not null check ("format" in ('mp4', 'ogg', 'webm')),
      "status" varchar(16) not null check ("status" in ('recording', 'processing', 'saved', 'failed')),
      "duration" int null,
      "url" text null,
      "provider_ref" varchar(256) null,
      "created_at" timestamptz(3) not null default now(),
      "updated_at" timestamptz(3) not null default now(),
      constraint "recording_pkey" primary key ("id"));`);
    this.addSql(`create index "recording_call_idx" on "recording" ("app_id", "mode", "call_id", "created_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "recording";`);
    this.addSql(`drop table if exists "call_command";`);
    this.addSql(`alter table "call_event" drop column "type", drop column "command_id";`);
    this.addSql(`drop index if exists "call_provider_ref_unique";`);
    this.addSql(`alter table "call" drop column "provider", drop column "provider_call_id", drop column "on_hold", drop column "muted_legs",
      drop column "recording_id", drop column "transferred_to", drop column "transferred_to_channel";`);
  }
}
