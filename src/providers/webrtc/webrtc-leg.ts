import { Channel, type Call } from '../../domain/call.js';
import type { RoomLeg } from '../room-leg.js';

/**
 * A WebRTC party is not dialed: the application gives it a join token (createCallToken) and
 * it joins the room; LiveKit's participant_joined webhook then answers the call.
 */
export class WebRtcLeg implements RoomLeg {
  readonly channel = Channel.WEBRTC;

  async dial(_call: Call): Promise<{ legId: string | null }> {
    return { legId: null };
  }

  /** Deleting the room (hangup) disconnects the client; nothing else to end. */
  async hangup(_call: Call): Promise<void> {}
}
