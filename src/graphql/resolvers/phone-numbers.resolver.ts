import { Arg, Ctx, Field, Mutation, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { Channel } from '../../domain/call.js';
import { NumberRouting, type PhoneNumber } from '../../domain/phone-numbers.js';
import type { UserError } from '../../domain/errors.js';
import type { GatewayContext } from '../context.js';
import { DateTimeScalar } from '../types/scalars.js';
import { UserErrorObject } from '../types/user-error.type.js';
import { SetNumberRoutingInput } from '../inputs/number-routing.input.js';

registerEnumType(NumberRouting, {
  name: 'NumberRouting',
  description: 'What happens to a call arriving at a number (per number and mode: a test key sets the routing of test calls only).',
  valuesConfig: {
    APPLICATION: { description: 'The application answers, rejects or sends it to voicemail (the default).' },
    FORWARD: { description: 'Forwarded at once to forwardTo (Telnyx transfer; the simulator: answered there 3 s later).' },
    RING_WEBRTC: {
      description:
        "Brought into the call's LiveKit room (Telnyx transfer over SIP to LiveKit), where the identity takes it: the TRANSFERRED event on callStatus carries call.transferredTo and call.livekitRoomName, and createCallToken gives the browser its token; the call is answered when the browser joins the room. Live calls need Telnyx and LiveKit SIP on the gateway (else refused, COMMAND_NOT_ALLOWED); if the bridge fails for a call, it stays with the application.",
    },
  },
});

@ObjectType('PhoneNumber', { description: "One of the application's numbers.", simpleResolvers: true })
class PhoneNumberObject {
  @Field(() => String, { description: 'E.164.' })
  number!: string;

  @Field(() => [Channel], { description: 'The channels calls reach it on: PSTN, and WHATSAPP for a WhatsApp business number.' })
  channels!: Channel[];

  @Field(() => String, {
    nullable: true,
    description:
      "Its phone-number id in Meta's WhatsApp Cloud API (`numbers assign --whatsapp-id`, or WHATSAPP_PHONE_NUMBER_ID for WHATSAPP_BUSINESS_NUMBER): set, the number is a WhatsApp business number, createCall may use it as a WHATSAPP `from`, and its calls' WhatsApp legs are placed from it. null: not a WhatsApp number.",
  })
  whatsappPhoneNumberId!: string | null;

  @Field(() => NumberRouting, { description: "Inbound routing in this key's mode." })
  routing!: NumberRouting;

  @Field(() => String, { nullable: true, description: 'FORWARD: the number calls go to; RING_WEBRTC: the identity that takes them; else null.' })
  routingTarget!: string | null;

  @Field(() => DateTimeScalar, { description: 'When it was assigned to the application.' })
  createdAt!: Date;
}

@ObjectType('SetNumberRoutingPayload', { description: 'Result of setNumberRouting.', simpleResolvers: true })
class SetNumberRoutingPayload {
  @Field(() => PhoneNumberObject, { nullable: true, description: 'The number with its routing; null when refused.' })
  phoneNumber!: PhoneNumber | null;

  @Field(() => [UserErrorObject], { description: 'Why nothing changed; empty on success.' })
  userErrors!: UserError[];
}

@Resolver()
export class PhoneNumbersResolver {
  @Query(() => [PhoneNumberObject], { description: "The application's phone numbers, with their channels and their routing in this key's mode." })
  phoneNumbers(@Ctx() ctx: GatewayContext): Promise<PhoneNumber[]> {
    return ctx.numbers.list();
  }

  @Mutation(() => SetNumberRoutingPayload, {
    description: 'Sets how calls arriving at a number are routed, in this key’s mode (also: calls-gateway numbers route).',
  })
  setNumberRouting(
    @Arg('input', () => SetNumberRoutingInput, { description: 'The number and its routing.' }) input: SetNumberRoutingInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<{ phoneNumber: PhoneNumber | null; userErrors: UserError[] }> {
    return ctx.numbers.setRouting(input);
  }
}
