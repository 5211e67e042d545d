import { Migration } from '@mikro-orm/migrations';

/**
 * endReason becomes an enum (issue 15): the column keeps its values, now checked; a FAILED call
 * of before that stored a raw Telnyx hangup_cause (e.g. "unspecified") becomes "failed" first.
 * hangupSource (who ended the call) and sipCode (the provider's SIP code) are new.
 */
export class Migration20261203133220_EndReasonsAndHangupSource extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "call" add column "hangup_source" text check ("hangup_source" in ('caller', 'callee', 'api', 'system')) null, add column "sip_code" smallint null;`,
    );
    this.addSql(`alter table "call" alter column "end_reason" type text using ("end_reason"::text);`);
    this.addSql(
      `update "call" set "end_reason" = 'failed' where "end_reason" not in ('hangup', 'busy', 'rejected', 'no_answer', 'canceled', 'voicemail', 'failed', 'not_found', 'provider_timeout', 'provider_error', 'time_limit');`,
    );
    this.addSql(
      `alter table "call" add constraint "call_end_reason_check" check("end_reason" in ('hangup', 'busy', 'rejected', 'no_answer', 'canceled', 'voicemail', 'failed', 'not_found', 'provider_timeout', 'provider_error', 'time_limit'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "call" drop constraint if exists "call_end_reason_check";`);

    this.addSql(`alter table "call" drop column "hangup_source", drop column "sip_code";`);

    this.addSql(`alter table "call" alter column "end_reason" type varchar(64) using ("end_reason"::varchar(64));`);
  }
}
