import { Channel, type Mode, type Tenant } from './call.js';
import { validateAddress } from './addresses.js';
import { UserErrorCode, userError, type UserError } from './errors.js';

/** What happens to a call arriving at a number (per number and mode). */
export enum NumberRouting {
  /** The application answers, rejects or sends it to voicemail (the default). */
  APPLICATION = 'application',
  /** Transferred to a PSTN number at once. */
  FORWARD = 'forward',
  /** Brought into the call's LiveKit room, where a WebRTC identity takes it (createCallToken). */
  RING_WEBRTC = 'ring_webrtc',
}

export interface PhoneNumber {
  number: string;
  /** The channels calls reach it on: PSTN, and WHATSAPP for a WhatsApp business number. */
  channels: Channel[];
  /** Its phone-number id in Meta's WhatsApp Cloud API: set for a WhatsApp business number, else null. */
  whatsappPhoneNumberId: string | null;
  routing: NumberRouting;
  /** FORWARD: the E.164 number; RING_WEBRTC: the identity; else null. */
  routingTarget: string | null;
  createdAt: Date;
}

export interface PhoneNumberStore {
  /** The application's numbers with their routing in `mode`, oldest first. */
  list(tenant: Tenant): Promise<Omit<PhoneNumber, 'channels'>[]>;
  /** false: the number is not the application's. */
  setRouting(tenant: Tenant, number: string, routing: NumberRouting, target: string | null): Promise<boolean>;
  /** How a call arriving at `number` in `mode` is routed (APPLICATION when the number has no routing). */
  routingOf(number: string, mode: Mode): Promise<{ routing: NumberRouting; target: string | null }>;
  /** The WhatsApp phone-number id of `number` (of application `appId`, when given); null: not a WhatsApp number. */
  whatsappIdOf(number: string, appId?: string): Promise<string | null>;
  /** The number whose WhatsApp phone-number id is `id`; null: none. */
  numberOfWhatsappId(id: string): Promise<string | null>;
}

/**
 * The WhatsApp number WHATSAPP_BUSINESS_NUMBER and WHATSAPP_PHONE_NUMBER_ID configure: a number of
 * that value counts as one with that id when its own row has none (the way before numbers carried
 * their ids). Applied by the store only, so every reader agrees.
 */
export interface DefaultWhatsAppNumber {
  businessNumber: string;
  phoneNumberId: string;
}

export interface SetRoutingInput {
  number: string;
  routing: NumberRouting;
  /** FORWARD: the E.164 number to forward to. */
  forwardTo?: string | null;
  /** RING_WEBRTC: the client identity that takes the call. */
  identity?: string | null;
}

/** An application's phone numbers and their inbound routing, as one tenant sees them. */
export class PhoneNumbers {
  constructor(
    private readonly store: PhoneNumberStore,
    readonly tenant: Tenant,
    /** Whether live calls can ring a browser: Telnyx with LiveKit SIP (LIVEKIT_SIP_URI) configured. */
    private readonly liveRingWebrtc: boolean,
  ) {}

  async list(): Promise<PhoneNumber[]> {
    return (await this.store.list(this.tenant)).map((row) => ({
      ...row,
      channels: row.whatsappPhoneNumberId !== null ? [Channel.PSTN, Channel.WHATSAPP] : [Channel.PSTN],
    }));
  }

  async setRouting(input: SetRoutingInput): Promise<{ phoneNumber: PhoneNumber | null; userErrors: UserError[] }> {
    const errors: UserError[] = [];
    let target: string | null = null;
    if (input.routing === NumberRouting.FORWARD) {
      const problem =
        input.forwardTo == null
          ? userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'forwardTo'], 'FORWARD needs forwardTo, the E.164 number calls are forwarded to')
          : validateAddress(input.forwardTo, Channel.PSTN, ['input', 'forwardTo']);
      if (problem) errors.push(problem);
      else if (input.forwardTo === input.number)
        errors.push(userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'forwardTo'], 'A number cannot forward to itself'));
      target = input.forwardTo ?? null;
    } else if (input.routing === NumberRouting.RING_WEBRTC) {
      const problem =
        input.identity == null
          ? userError(UserErrorCode.INVALID_ARGUMENT, ['input', 'identity'], 'RING_WEBRTC needs identity, the WebRTC client that takes the calls')
          : validateAddress(input.identity, Channel.WEBRTC, ['input', 'identity']);
      if (problem) errors.push(problem);
      else if (this.tenant.mode === 'live' && !this.liveRingWebrtc)
        errors.push(
          userError(
            UserErrorCode.COMMAND_NOT_ALLOWED,
            ['input', 'routing'],
            'RING_WEBRTC needs Telnyx and LiveKit SIP (LIVEKIT_SIP_URI, LIVEKIT_SIP_INBOUND_TRUNK_ID) configured on this gateway: without them a live call cannot reach a browser',
          ),
        );
      target = input.identity ?? null;
    }
    if (input.routing !== NumberRouting.APPLICATION && errors.length === 0 && (await this.store.whatsappIdOf(input.number, this.tenant.appId)) !== null) {
      errors.push(
        userError(
          UserErrorCode.COMMAND_NOT_ALLOWED,
          ['input', 'routing'],
          'The WhatsApp business number takes calls through the application only (Meta connects them)',
        ),
      );
    }
    if (errors.length) return { phoneNumber: null, userErrors: errors };
    if (!(await this.store.setRouting(this.tenant, input.number, input.routing, target))) {
      return {
        phoneNumber: null,
        userErrors: [
          userError(UserErrorCode.PHONE_NUMBER_NOT_ASSIGNED, ['input', 'number'], `${input.number.slice(0, 40)} is not a number of this application`),
        ],
      };
    }
    const phoneNumber = (await this.list()).find((row) => row.number === input.number) ?? null;
    return { phoneNumber, userErrors: [] };
  }
}
