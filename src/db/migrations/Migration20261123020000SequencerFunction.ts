import { Migration } from '@mikro-orm/migrations';

/**
 * The sequencer in one round trip instead of four (BEGIN, lock, number, COMMIT). Inside a
 * PL/pgSQL function each statement takes a fresh snapshot under READ COMMITTED, so the
 * numbering statement, which runs after the advisory lock is granted, sees every event
 * numbered by the previous holder of the lock. With the LISTEN/NOTIFY bus it also announces the
 * new head, delivered when the numbering commits: one transaction per run in all.
 */
export class Migration20261123020000SequencerFunction extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create or replace function calls_gateway_sequence_events(batch integer, notify_channel text)
returns table (last_position bigint, numbered bigint)
language plpgsql volatile as $$
declare
  head bigint;
  n bigint;
begin
  perform pg_advisory_xact_lock(7342002);
  with base as (select coalesce(max(e.position), 0) as p from call_event e),
       pending as (select e.id, row_number() over (order by e.insert_id) as rn
                     from call_event e where e.position is null order by e.insert_id limit batch),
       done as (update call_event e set position = base.p + pending.rn from pending, base
                 where e.id = pending.id returning e.position)
  select max(done.position), count(*) into head, n from done;
  -- Announced at commit, with the numbering, when the bus is LISTEN/NOTIFY.
  if head is not null and notify_channel is not null then
    perform pg_notify(notify_channel, head::text);
  end if;
  return query select head, n;
end
$$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists calls_gateway_sequence_events(integer, text);');
  }
}
