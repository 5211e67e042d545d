import { Migration } from '@mikro-orm/migrations';

/**
 * DTMF (issue 15): sendDtmf commands (send_dtmf) and their DTMF_SENT events, and DTMF_RECEIVED
 * events from providers; an event of either keeps its digits.
 */
export class Migration20261203135516_EventDigits extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "call_command" drop constraint if exists "call_command_type_check";`);

    this.addSql(`alter table "call_event" drop constraint if exists "call_event_type_check";`);

    this.addSql(
      `alter table "call_command" add constraint "call_command_type_check" check("type" in ('answer', 'reject', 'hangup', 'hold', 'unhold', 'mute', 'unmute', 'transfer', 'send_dtmf', 'start_recording', 'stop_recording', 'send_to_voicemail'));`,
    );

    this.addSql(`alter table "call_event" add column "digits" varchar(64) null;`);
    this.addSql(
      `alter table "call_event" add constraint "call_event_type_check" check("type" in ('status_changed', 'held', 'unheld', 'muted', 'unmuted', 'transferred', 'recording_started', 'recording_stopped', 'recording_saved', 'command_failed', 'dtmf_sent', 'dtmf_received'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "call_command" drop constraint if exists "call_command_type_check";`);

    this.addSql(`alter table "call_event" drop constraint if exists "call_event_type_check";`);

    this.addSql(
      `alter table "call_command" add constraint "call_command_type_check" check("type" in ('answer', 'reject', 'hangup', 'hold', 'unhold', 'mute', 'unmute', 'transfer', 'start_recording', 'stop_recording', 'send_to_voicemail'));`,
    );

    this.addSql(`alter table "call_event" drop column "digits";`);

    this.addSql(
      `alter table "call_event" add constraint "call_event_type_check" check("type" in ('status_changed', 'held', 'unheld', 'muted', 'unmuted', 'transferred', 'recording_started', 'recording_stopped', 'recording_saved', 'command_failed'));`,
    );
  }
}
