import { Migration } from '@mikro-orm/migrations';

/** Per-number inbound routing (issue 15): APPLICATION, FORWARD to a PSTN number, RING_WEBRTC an identity; one row per number and mode. */
export class Migration20261203142202_NumberRouting extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "number_routing" ("phone_number_id" varchar(40) not null, "mode" text check ("mode" in ('test', 'live')) not null, "routing" text check ("routing" in ('application', 'forward', 'ring_webrtc')) not null, "target" varchar(128) null, "updated_at" timestamptz(3) not null default now(), constraint "number_routing_pkey" primary key ("phone_number_id", "mode"));`,
    );

    this.addSql(
      `alter table "number_routing" add constraint "number_routing_phone_number_id_foreign" foreign key ("phone_number_id") references "phone_number" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "number_routing" cascade;`);
  }
}
