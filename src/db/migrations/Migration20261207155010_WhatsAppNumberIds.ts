import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 24 (13): a number carries its WhatsApp Cloud API phone-number id, so a WhatsApp `from` is
 * a number of the application that WhatsApp knows, and its leg dials from that number (not the one
 * WHATSAPP_PHONE_NUMBER_ID names, whatever `from` said). Null for every existing number.
 */
export class Migration20261207155010_WhatsAppNumberIds extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "phone_number" add column "whatsapp_phone_number_id" varchar(64) null;`);
    this.addSql(`alter table "phone_number" add constraint "phone_number_whatsapp_phone_number_id_unique" unique ("whatsapp_phone_number_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "phone_number" drop constraint "phone_number_whatsapp_phone_number_id_unique";`);
    this.addSql(`alter table "phone_number" drop column "whatsapp_phone_number_id";`);
  }
}
