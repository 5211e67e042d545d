import { Migration } from '@mikro-orm/migrations';

/**
 * The rate limit without Redis, leased in chunks as the Redis path is (server/rate-limit-lease.ts):
 * one call takes max(1, floor(left × fraction)) of the window's points left on `rate_limit` (0 when
 * none are) and says how long the window lasts still, in one round trip and atomically (the upsert
 * locks the row for the update that follows). The first point taken starts the window. It replaces
 * rate-limiter-flexible's one statement per request, half of createCall's cost without Redis.
 */
export class Migration20261207170000_RateLimitLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create or replace function calls_gateway_lease_points(lease_key text, point_limit integer, fraction double precision, window_ms bigint)
returns table (granted integer, ttl_ms bigint)
language plpgsql volatile as $$
declare
  now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  used integer;
  ends bigint;
  take integer := 0;
begin
  insert into rate_limit as r (key, points, expire) values (lease_key, 0, now_ms + window_ms)
  on conflict (key) do update set
    points = case when r.expire is null or r.expire <= now_ms then 0 else r.points end,
    expire = case when r.expire is null or r.expire <= now_ms then now_ms + window_ms else r.expire end
  returning r.points, r.expire into used, ends;
  if point_limit - used > 0 then
    take := greatest(1, floor((point_limit - used) * fraction)::integer);
    update rate_limit set points = points + take where key = lease_key;
  end if;
  granted := take;
  ttl_ms := greatest(1, ends - now_ms);
  return next;
end;
$$;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists calls_gateway_lease_points(text, integer, double precision, bigint);');
  }
}
