import type { Call, Channel } from '../domain/call.js';
import type { CallCommand, CommandArgs, RejectReason } from '../domain/command-rules.js';
import type { CommandResult } from '../domain/channel-provider.js';

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

/**
 * Brings a call another provider carries (an inbound Telnyx call) into a LiveKit room over SIP,
 * so that a WebRTC client can take it, and acts on the call's parties there
 * (providers/webrtc/sip-bridge.ts).
 */
export interface RoomBridge {
  /** Prepares the call's room (and what routes the SIP call there); the SIP URI to send the call to. */
  open(call: Call): Promise<string>;
  /** Why the room cannot carry out this command on the bridged call, or null when it can. */
  unsupported(args: CommandArgs, call: Call): string | null;
  /** Carries out a command on the parties in the room (mute, hold, transfer to another identity, recording). */
  execute(call: Call, command: CallCommand): Promise<CommandResult>;
  /** Ends the room (the call was hung up where it is carried). */
  close(call: Call): Promise<void>;
}
