import { Entity, Enum, ManyToOne, OptionalProps, Property } from '@mikro-orm/core';
import { MODES, type Mode } from '../../domain/call.js';
import { NumberRouting } from '../../domain/phone-numbers.js';
import { PhoneNumberEntity } from './phone-number.entity.js';

/** How calls arriving at a number are routed, per mode (a test key's routing never changes live calls). */
@Entity({ tableName: 'number_routing' })
export class NumberRoutingEntity {
  [OptionalProps]?: 'target' | 'updatedAt';

  @ManyToOne(() => PhoneNumberEntity, { primary: true, fieldName: 'phone_number_id', deleteRule: 'cascade' })
  phoneNumber!: PhoneNumberEntity;

  @Enum({ items: [...MODES], type: 'string', primary: true })
  mode!: Mode;

  @Enum({ items: () => NumberRouting, type: 'string' })
  routing!: NumberRouting;

  /** FORWARD: the E.164 number; RING_WEBRTC: the identity. */
  @Property({ type: 'string', length: 128, nullable: true })
  target: string | null = null;

  @Property({ type: 'datetime', length: 3, defaultRaw: 'now()' })
  updatedAt!: Date;
}
