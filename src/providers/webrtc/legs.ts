import { Channel, type Call } from '../../domain/call.js';

/**
 * The identity of a party in the call's room. A WebRTC party joins as its own address (the
 * identity createCallToken signs); dialed parties join under a prefixed identity, so a webhook
 * tells who joined or left.
 */
export function partyIdentity(channel: Channel, address: string): string {
  switch (channel) {
    case Channel.WEBRTC:
      return address;
    case Channel.PSTN:
      return `sip:${address}`;
    case Channel.WHATSAPP:
      return `whatsapp:${address}`;
  }
}

/** The called party: after a transfer, the one it went to. */
export function calleeIdentity(call: Call): string {
  return call.transferredTo && call.transferredToChannel
    ? partyIdentity(call.transferredToChannel, call.transferredTo)
    : partyIdentity(call.toChannel, call.toAddress);
}
