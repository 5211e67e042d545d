import { Entity, OptionalProps, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { ApplicationEntity } from './application.entity.js';

/** A phone number (E.164) assigned to exactly one application. */
@Entity({ tableName: 'phone_number' })
@Index({ properties: ['app', 'number'] })
export class PhoneNumberEntity {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'string', length: 40 })
  id!: string;

  @Property({ type: 'string', length: 16, unique: 'phone_number_number_unique' })
  number!: string;

  /**
   * The number's id in Meta's WhatsApp Cloud API (`numbers assign --whatsapp-id`): set, the number
   * is a WhatsApp business number, a WhatsApp `from` may be it, and its WhatsApp legs dial from it.
   */
  @Property({ type: 'string', length: 64, nullable: true, unique: 'phone_number_whatsapp_phone_number_id_unique' })
  whatsappPhoneNumberId?: string | null;

  @ManyToOne(() => ApplicationEntity, { fieldName: 'app_id', deleteRule: 'cascade' })
  app!: ApplicationEntity;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
