import { Migration } from '@mikro-orm/migrations';

/**
 * The first migration made by MikroORM's migrator from the entities (`npm run db:migration`),
 * once every table had one: `app_id` of commands, events, recordings, webhook endpoints and
 * deliveries now references its application (deleting an application removes its rows), and
 * event and command types are checked against the domain's lists (CallEventKind, CallCommandType).
 */
export class Migration20261202190231_TenantKeysAndKindChecks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "call_command" add constraint "call_command_type_check" check("type" in ('answer', 'reject', 'hangup', 'hold', 'unhold', 'mute', 'unmute', 'transfer', 'start_recording', 'stop_recording', 'send_to_voicemail'));`,
    );
    this.addSql(
      `alter table "call_command" add constraint "call_command_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "call_event" add constraint "call_event_type_check" check("type" in ('status_changed', 'held', 'unheld', 'muted', 'unmuted', 'transferred', 'recording_started', 'recording_stopped', 'recording_saved', 'command_failed'));`,
    );
    this.addSql(
      `alter table "call_event" add constraint "call_event_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "recording" add constraint "recording_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "webhook_endpoint" add constraint "webhook_endpoint_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "webhook_delivery" add constraint "webhook_delivery_app_id_foreign" foreign key ("app_id") references "application" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "call_command" drop constraint if exists "call_command_type_check";`);

    this.addSql(`alter table "call_command" drop constraint "call_command_app_id_foreign";`);

    this.addSql(`alter table "call_event" drop constraint if exists "call_event_type_check";`);

    this.addSql(`alter table "call_event" drop constraint "call_event_app_id_foreign";`);

    this.addSql(`alter table "recording" drop constraint "recording_app_id_foreign";`);

    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_app_id_foreign";`);

    this.addSql(`alter table "webhook_endpoint" drop constraint "webhook_endpoint_app_id_foreign";`);

    this.addSql(`alter table "call_command" alter column "type" type varchar(32) using ("type"::varchar(32));`);

    this.addSql(`alter table "call_event" alter column "type" type varchar(32) using ("type"::varchar(32));`);
  }
}
