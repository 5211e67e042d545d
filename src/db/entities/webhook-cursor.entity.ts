import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * How far the event log has been fanned out into deliveries: moved in the same transaction as
 * the deliveries it creates, so each event becomes each endpoint's delivery exactly once.
 */
@Entity({ tableName: 'webhook_cursor' })
export class WebhookCursorEntity {
  @PrimaryKey({ type: 'string', length: 32 })
  name!: string;

  /** The last log position fanned out. */
  @Property({ type: 'bigint', columnType: 'bigint' })
  position!: string;
}
