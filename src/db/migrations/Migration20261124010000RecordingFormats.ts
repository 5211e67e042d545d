import { Migration } from '@mikro-orm/migrations';

/** Recordings of PSTN to PSTN calls come from Telnyx Call Control, which records MP3 or WAV. */
export class Migration20261124010000RecordingFormats extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "recording" drop constraint if exists "recording_format_check";`);
    this.addSql(`alter table "recording" add constraint "recording_format_check" check ("format" in ('mp4', 'ogg', 'webm', 'mp3', 'wav'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "recording" drop constraint if exists "recording_format_check";`);
    this.addSql(`alter table "recording" add constraint "recording_format_check" check ("format" in ('mp4', 'ogg', 'webm'));`);
  }
}
