import { Migration } from '@mikro-orm/migrations';

/** Counters of rate-limiter-flexible's PostgreSQL store (its own schema), shared by every gateway process. */
export class Migration20261124030000RateLimits extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table if not exists "rate_limit" ("key" varchar(255) primary key, "points" integer not null default 0, "expire" bigint);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rate_limit";`);
  }
}
