import { Field, InputType } from 'type-graphql';
import { Channel } from '../../domain/call.js';
import { JSONObjectScalar } from '../types/scalars.js';
import '../types/enums.js';

@InputType('CreateCallInput', { description: 'An outbound call to place.' })
export class CreateCallInput {
  @Field(() => String, { description: 'A number assigned to the application (E.164 for PSTN and WhatsApp), or a client identity for WebRTC.' })
  from!: string;

  @Field(() => String, { description: 'E.164 for PSTN and WhatsApp (e.g. +15551234567); a client identity for WebRTC.' })
  to!: string;

  @Field(() => Channel, { defaultValue: Channel.PSTN, description: 'Channel of the calling leg.' })
  fromChannel!: Channel;

  @Field(() => Channel, { defaultValue: Channel.PSTN, description: 'Channel of the called leg.' })
  toChannel!: Channel;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'Custom key/values (a JSON object, at most 16 KB serialized), included in webhook payloads.' })
  metadata?: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Same key and same input within 24 h return the same call with replayed: true; the same key with other input fails with IDEMPOTENCY_KEY_REUSED.',
  })
  idempotencyKey?: string | null;
}
