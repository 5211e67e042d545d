import { Field, InputType } from 'type-graphql';
import { NumberRouting } from '../../domain/phone-numbers.js';

@InputType('SetNumberRoutingInput', { description: 'How calls arriving at one of the numbers are routed.' })
export class SetNumberRoutingInput {
  @Field(() => String, { description: "One of the application's numbers (E.164)." })
  number!: string;

  @Field(() => NumberRouting, { description: 'The routing.' })
  routing!: NumberRouting;

  @Field(() => String, { nullable: true, description: 'FORWARD: the E.164 number to forward to.' })
  forwardTo?: string | null;

  @Field(() => String, { nullable: true, description: 'RING_WEBRTC: the WebRTC client identity that takes the calls.' })
  identity?: string | null;
}
