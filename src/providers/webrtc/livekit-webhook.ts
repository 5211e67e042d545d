import { DisconnectReason } from '@livekit/protocol';
import { EgressStatus, WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import { CallDirection, CallStatus, EndReason, HangupSource, type Call } from '../../domain/call.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { looksLikeCallId } from '../../domain/ids.js';
import type { ProviderWebhook, WebhookRequest, WebhookResponse } from '../../domain/channel-provider.js';
import { calleeIdentity, partyIdentity } from './legs.js';

const ANSWERED: ReadonlySet<CallStatus> = new Set([CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL]);

/**
 * POST /webhooks/livekit, verified with the SDK's WebhookReceiver: the Authorization header is
 * a JWT signed with our API secret whose `sha256` claim is the body's hash. Anything else is 401
 * and changes nothing. Rooms are named after calls, so every event names its call.
 *
 * participant_joined (the called party) → IN_PROGRESS, but a SIP participant only once its
 * sip.callStatus is "active" (participant_joined or track_published); participant_left → COMPLETED once
 * answered, else CANCELED (the caller gave up) or NO_ANSWER (the called party's leg ended);
 * room_finished → COMPLETED or NO_ANSWER; egress_ended → the recording is saved (or failed).
 */
/** LiveKit's SIP participant attribute: dialing, ringing, active, hangup (docs: SIP participant attributes). */
const SIP_CALL_STATUS = 'sip.callStatus';

/** Whether the call, answered, lasted its timeLimit (to the second LiveKit's clock and ours may differ by). */
function reachedTimeLimit(call: Call, at: Date | undefined): boolean {
  const limit = call.options.timeLimit;
  if (limit === undefined || !call.answeredAt) return false;
  return (at ?? new Date()).getTime() - new Date(call.answeredAt).getTime() >= (limit - 1) * 1000;
}

export class LiveKitWebhook implements ProviderWebhook {
  readonly path = 'livekit';
  private readonly receiver: WebhookReceiver;

  constructor(
    apiKey: string,
    apiSecret: string,
    private readonly callbacks: ProviderCallbacks,
    /**
     * Ends a call another provider carries whose browser party met it in a room (a Telnyx call
     * taken by a browser) at that provider: the browser left, so the caller must not stay on alone.
     */
    private readonly hangUpBridged: (call: Call) => Promise<void> = async () => {},
  ) {
    this.receiver = new WebhookReceiver(apiKey, apiSecret);
  }

  async handle(request: WebhookRequest): Promise<WebhookResponse> {
    if (request.method !== 'POST') return { status: 405, body: 'POST only' };
    const auth = request.headers.authorization;
    let event: WebhookEvent;
    try {
      event = await this.receiver.receive(request.rawBody.toString('utf8'), Array.isArray(auth) ? auth[0] : auth);
    } catch {
      return { status: 401, body: 'invalid signature' };
    }
    await this.apply(event);
    return { status: 200, body: 'ok' };
  }

  private async apply(event: WebhookEvent): Promise<void> {
    const roomName = event.room?.name || event.egressInfo?.roomName || '';
    if (!looksLikeCallId(roomName)) return;
    const call = await this.callbacks.findCall({ callId: roomName });
    if (!call) return;
    const identity = event.participant?.identity ?? '';
    // A call another provider carries but whose parties meet in a room (a Telnyx call taken by a
    // browser): its status comes from that provider; here only its room recordings, and the
    // browser leaving, which ends the call (COMPLETED by the callee, the caller's leg hung up).
    if (call.provider !== 'livekit') {
      if (call.roomName !== roomName) return;
      // A ringing call sent to a browser (RING_WEBRTC) is answered when that browser joins.
      if (event.event === 'participant_joined' && identity === call.transferredTo && call.status === CallStatus.RINGING) {
        await this.callbacks.apply({ callId: call.id, status: CallStatus.IN_PROGRESS, occurredAt: eventTime(event) });
        return;
      }
      if (event.event === 'participant_left' && identity === call.transferredTo && call.status === CallStatus.IN_PROGRESS && leftByItself(event)) {
        await this.callbacks.apply({
          callId: call.id,
          status: CallStatus.COMPLETED,
          endReason: EndReason.HANGUP,
          hangupSource: HangupSource.CALLEE,
          occurredAt: eventTime(event),
        });
        await this.hangUpBridged(call);
        return;
      }
      if (event.event !== 'egress_ended') return;
    }
    const occurredAt = eventTime(event);
    switch (event.event) {
      case 'participant_joined':
      case 'track_published': {
        if (call.direction !== CallDirection.OUTBOUND || identity !== calleeIdentity(call)) return;
        // A SIP participant is in the room while its call is still dialing: answered only once
        // LiveKit's sip.callStatus attribute says "active" (it publishes its audio then). Any
        // other participant has answered when it joins.
        const sipStatus = event.participant?.attributes?.[SIP_CALL_STATUS];
        if (sipStatus === undefined) {
          if (event.event === 'participant_joined') await this.callbacks.apply({ callId: call.id, status: CallStatus.IN_PROGRESS, occurredAt });
        } else if (sipStatus === 'active') {
          await this.callbacks.apply({ callId: call.id, status: CallStatus.IN_PROGRESS, occurredAt });
        } else if (sipStatus === 'dialing' || sipStatus === 'ringing') {
          await this.callbacks.apply({ callId: call.id, status: CallStatus.RINGING, occurredAt });
        }
        return;
      }
      case 'participant_left': {
        const caller = partyIdentity(call.fromChannel, call.fromAddress);
        if (identity !== caller && identity !== calleeIdentity(call)) return;
        // LiveKit SIP ended the leg at maxCallDuration (timeLimit): the SIP participant left when the limit was reached.
        const limited = ANSWERED.has(call.status) && reachedTimeLimit(call, occurredAt);
        const ended = limited
          ? { status: CallStatus.COMPLETED, endReason: EndReason.TIME_LIMIT }
          : ANSWERED.has(call.status)
            ? { status: CallStatus.COMPLETED, endReason: call.status === CallStatus.VOICEMAIL ? null : EndReason.HANGUP }
            : identity === caller
              ? { status: CallStatus.CANCELED, endReason: EndReason.HANGUP }
              : // A callee that never answered says why it left (ParticipantInfo.disconnectReason):
                // the same rule as Telnyx and WhatsApp, a callee that refuses is BUSY.
                unansweredSipEnding(event.participant?.disconnectReason);
        // Who left is who ended it (the called leg that never answered: the network gave up,
        // unless the callee refused).
        const hangupSource = limited
          ? HangupSource.SYSTEM
          : identity === caller
            ? HangupSource.CALLER
            : ANSWERED.has(call.status) || ended.status === CallStatus.BUSY
              ? HangupSource.CALLEE
              : HangupSource.SYSTEM;
        await this.callbacks.apply({ callId: call.id, ...ended, hangupSource, occurredAt });
        return;
      }
      case 'room_finished':
        await this.callbacks.apply(
          ANSWERED.has(call.status)
            ? { callId: call.id, status: CallStatus.COMPLETED, endReason: EndReason.HANGUP, hangupSource: HangupSource.SYSTEM, occurredAt }
            : { callId: call.id, status: CallStatus.NO_ANSWER, endReason: EndReason.NO_ANSWER, occurredAt },
        );
        return;
      case 'egress_ended': {
        const info = event.egressInfo!;
        const file = info.fileResults[0];
        await this.callbacks.recordingSaved({
          callId: call.id,
          providerRef: info.egressId,
          url: file?.location || null,
          duration: file ? Math.round(Number(file.duration) / 1e9) : null,
          failed: info.status !== EgressStatus.EGRESS_COMPLETE,
        });
        return;
      }
      default:
        return;
    }
  }
}

/**
 * How a SIP callee's leg ended before it answered, by LiveKit's disconnect reason: refused
 * (USER_REJECTED, a 486 or a decline) is BUSY "busy", as Telnyx's busy and WhatsApp's rejection
 * are; the trunk failing is FAILED; no answer in time, or no reason given, is NO_ANSWER.
 */
function unansweredSipEnding(reason: DisconnectReason | undefined): { status: CallStatus; endReason: EndReason } {
  switch (reason) {
    case DisconnectReason.USER_REJECTED:
      return { status: CallStatus.BUSY, endReason: EndReason.BUSY };
    case DisconnectReason.SIP_TRUNK_FAILURE:
      return { status: CallStatus.FAILED, endReason: EndReason.FAILED };
    default:
      return { status: CallStatus.NO_ANSWER, endReason: EndReason.NO_ANSWER };
  }
}

function eventTime(event: WebhookEvent): Date | undefined {
  return event.createdAt ? new Date(Number(event.createdAt) * 1000) : undefined;
}

/**
 * A participant that left the room by itself (hung up, closed the tab, lost its connection), not
 * one the gateway removed (a transfer to another identity lets the previous one go) or a room that
 * was deleted.
 */
function leftByItself(event: WebhookEvent): boolean {
  const reason = event.participant?.disconnectReason;
  return reason !== DisconnectReason.PARTICIPANT_REMOVED && reason !== DisconnectReason.ROOM_DELETED && reason !== DisconnectReason.ROOM_CLOSED;
}
