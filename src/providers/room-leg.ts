import type { Call, Channel } from '../domain/call.js';
import type { RejectReason } from '../domain/command-rules.js';

/**
 * One leg of a call whose parties meet in a LiveKit room (providers/webrtc/livekit-provider.ts):
 * how the called party is brought into the call's room on its channel, and taken out again.
 * - WEBRTC: the client joins with a token from createCallToken; nothing to dial.
 * - PSTN: LiveKit SIP dials the number through an outbound trunk (Telnyx SIP), as a participant.
 * - WHATSAPP: LiveKit's WhatsApp connector places the call through Meta's Cloud API.
 */
export interface RoomLeg {
  readonly channel: Channel;
  /** Brings `call.toAddress` into the call's room; the leg's provider id, if it has one. */
  dial(call: Call): Promise<{ legId: string | null }>;
  /** Ends the leg (before or after answer). */
  hangup(call: Call): Promise<void>;
  /** Inbound on this channel: connect the ringing caller into the room (answerCall). */
  answer?(call: Call): Promise<void>;
  /** Inbound on this channel: refuse the ringing caller (rejectCall). */
  reject?(call: Call, reason: RejectReason): Promise<void>;
}
