import { RoomServiceClient, SipClient } from 'livekit-server-sdk';
import { Channel, type Call } from '../../domain/call.js';
import type { RoomLeg } from '../room-leg.js';
import { livekit } from './livekit-errors.js';
import { partyIdentity } from './legs.js';

/**
 * A PSTN party of a cross-channel call is dialed by LiveKit SIP into the call's room, through an
 * outbound SIP trunk that terminates on Telnyx (LIVEKIT_SIP_TRUNK_ID): the PSTN leg is a room
 * participant like any other, so mute, hold and recording work the same on every channel.
 */
export class SipLeg implements RoomLeg {
  readonly channel = Channel.PSTN;
  private readonly sip: SipClient;
  private readonly rooms: RoomServiceClient;

  constructor(
    url: string,
    apiKey: string,
    apiSecret: string,
    private readonly trunkId: string,
  ) {
    this.sip = new SipClient(url, apiKey, apiSecret);
    this.rooms = new RoomServiceClient(url, apiKey, apiSecret);
  }

  async dial(call: Call): Promise<{ legId: string | null }> {
    const to = call.toAddress;
    const participant = await livekit(() =>
      this.sip.createSipParticipant(this.trunkId, to, call.roomName!, {
        participantIdentity: partyIdentity(Channel.PSTN, to),
        participantName: to,
        // Caller id: the application's number when the calling leg has one.
        fromNumber: call.fromChannel === Channel.WEBRTC ? undefined : call.fromAddress,
        ringingTimeout: call.options.ringTimeout ?? 45,
        ...(call.options.timeLimit !== undefined ? { maxCallDuration: call.options.timeLimit } : {}),
        ...(call.options.callerName !== undefined ? { displayName: call.options.callerName } : {}),
        playDialtone: false,
        waitUntilAnswered: false,
      }),
    );
    return { legId: participant.sipCallId || participant.participantId || null };
  }

  async hangup(call: Call): Promise<void> {
    await livekit(() => this.rooms.removeParticipant(call.roomName!, partyIdentity(Channel.PSTN, call.toAddress)));
  }
}
