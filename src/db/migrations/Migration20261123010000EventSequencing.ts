import { Migration } from '@mikro-orm/migrations';

/**
 * Commit-ordered positions for the event log. A transaction draws a bigserial value when it
 * inserts, not when it commits, so two writers can commit their positions out of order and a
 * reader resuming "after position N" could miss the slower one. Instead, writers insert events
 * with no position (`insert_id` keeps their insertion order) and one sequencer at a time
 * (an advisory lock) numbers the committed ones 1, 2, 3 … in one transaction: a reader that has
 * seen position N never sees a new event at or below N.
 */
export class Migration20261123010000EventSequencing extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "call_event" alter column "position" drop default;`);
    this.addSql(`alter table "call_event" alter column "position" drop not null;`);
    this.addSql(`drop sequence if exists "call_event_position_seq";`);
    this.addSql(`alter table "call_event" add column "insert_id" bigserial;`);
    this.addSql(`create index "call_event_unsequenced_idx" on "call_event" ("insert_id") where "position" is null;`);
    // Calls that have not ended: what the simulator resumes after a restart.
    this.addSql(`create index "call_unfinished_idx" on "call" ("mode", "created_at") where "status" in ('initiated', 'ringing', 'in_progress', 'voicemail');`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "call_unfinished_idx";`);
    this.addSql(`drop index if exists "call_event_unsequenced_idx";`);
    this.addSql(`alter table "call_event" drop column "insert_id";`);
    this.addSql(`create sequence if not exists "call_event_position_seq" owned by "call_event"."position";`);
    this.addSql(`select setval('call_event_position_seq', coalesce((select max("position") from "call_event"), 0) + 1, false);`);
    this.addSql(`update "call_event" set "position" = nextval('call_event_position_seq') where "position" is null;`);
    this.addSql(`alter table "call_event" alter column "position" set default nextval('call_event_position_seq');`);
    this.addSql(`alter table "call_event" alter column "position" set not null;`);
  }
}
