import type Telnyx from 'telnyx';
import { AnsweredBy, CallDirection, CallStatus, Channel, MachineDetection, type Call } from '../../domain/call.js';
import { NumberRouting } from '../../domain/phone-numbers.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { looksLikeCallId } from '../../domain/ids.js';
import { isTerminal } from '../../domain/call-status-rules.js';
import type { ProviderWebhook, WebhookRequest, WebhookResponse } from '../../domain/channel-provider.js';
import {
  callIdOf,
  hangupStatus,
  inVoicemail,
  answeredBy,
  occurredAt,
  recordingDuration,
  permanentRecordingUrl,
  type HandledEvent,
  type LegRef,
} from './telnyx-mapping.js';
import type { TelnyxVoicemail } from './telnyx-voicemail.js';

/**
 * POST /webhooks/telnyx. Every request is verified first, with the SDK's own check
 * (`client.webhooks.unwrap`: Ed25519 over `<telnyx-timestamp>|<raw body>` in
 * `telnyx-signature-ed25519`, with Telnyx's public key, timestamps at most 300 s off) and then
 * our own, possibly tighter, TELNYX_WEBHOOK_TOLERANCE_SECONDS. Anything that fails is 401 and
 * changes nothing. Verified events go to the lifecycle, which makes duplicated, late or
 * out-of-order deliveries harmless; events the gateway does not use are acknowledged (200).
 */
export class TelnyxWebhook implements ProviderWebhook {
  readonly path = 'telnyx';

  private readonly client: Telnyx;
  private readonly toleranceSeconds: number;
  private readonly callbacks: ProviderCallbacks;
  private readonly provider: string;
  private readonly voicemail: TelnyxVoicemail;
  private readonly route: (call: Call, to: string, toChannel: Channel) => Promise<boolean>;
  private readonly closeRoom: (call: Call) => Promise<void>;

  constructor(parts: {
    client: Telnyx;
    toleranceSeconds: number;
    callbacks: ProviderCallbacks;
    provider: string;
    voicemail: TelnyxVoicemail;
    /** Sends an arriving call where its number's routing says (TelnyxProvider.routeInbound); false: it could not. */
    route?: (call: Call, to: string, toChannel: Channel) => Promise<boolean>;
    /** Closes the LiveKit room of a call taken by a browser (its WebRTC party goes with the call). */
    closeRoom?: (call: Call) => Promise<void>;
  }) {
    this.client = parts.client;
    this.toleranceSeconds = parts.toleranceSeconds;
    this.callbacks = parts.callbacks;
    this.provider = parts.provider;
    this.voicemail = parts.voicemail;
    this.route = parts.route ?? (async () => false);
    this.closeRoom = parts.closeRoom ?? (async () => {});
  }

  async handle(request: WebhookRequest): Promise<WebhookResponse> {
    if (request.method !== 'POST') return { status: 405, body: 'POST only' };
    const body = request.rawBody.toString('utf8');
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? (value[0] ?? '') : (value ?? '')]));
    let envelope: unknown;
    try {
      envelope = await this.client.webhooks.unwrap(body, { headers });
    } catch (error) {
      // unwrap verifies, then parses: a SyntaxError means the signature held but the body is not JSON.
      return error instanceof SyntaxError ? { status: 400, body: 'not JSON' } : { status: 401, body: 'invalid signature' };
    }
    const age = Math.abs(Date.now() / 1000 - Number(headers['telnyx-timestamp']));
    if (!(age <= this.toleranceSeconds)) return { status: 401, body: 'stale timestamp' };
    const event = (envelope as { data?: HandledEvent } | null)?.data;
    if (event && typeof event === 'object') await this.apply(event);
    return { status: 200, body: 'ok' };
  }

  private async apply(event: HandledEvent): Promise<void> {
    const at = occurredAt(event.occurred_at);
    if (event.event_type === 'call.initiated' && event.payload?.direction === 'incoming') return this.inbound(event.payload);
    const payload: LegRef = event.payload ?? {};
    const call = await this.find(payload);
    if (!call) return;
    switch (event.event_type) {
      case 'call.initiated':
      case 'call.answered':
        if (isTerminal(call.status)) return this.hangUpOrphan(payload);
        // sendToVoicemail answered a ringing call (the call is VOICEMAIL already): greet the caller.
        if (event.event_type === 'call.answered' && inVoicemail(payload.client_state) && payload.call_control_id) {
          return this.voicemail.greet(payload.call_control_id, call.id);
        }
        // Call Control sends no ringing event for a dialed call (its dial documents call.initiated,
        // then call.answered or call.hangup): call.initiated, the call leaving towards the
        // destination, is the nearest to RINGING.
        await this.callbacks.apply({
          callId: call.id,
          status: event.event_type === 'call.initiated' ? CallStatus.RINGING : CallStatus.IN_PROGRESS,
          occurredAt: at,
        });
        return;
      case 'call.machine.detection.ended':
      case 'call.machine.premium.detection.ended': {
        const what = answeredBy(event.payload?.result);
        await this.callbacks.machineDetected(call.id, what);
        // A machine: VOICEMAIL now, or (DETECT_BEEP) once its greeting ended, below.
        if (what === AnsweredBy.MACHINE && call.options.machineDetection !== MachineDetection.DETECT_BEEP) {
          await this.callbacks.apply({ callId: call.id, status: CallStatus.VOICEMAIL, occurredAt: at });
        }
        return;
      }
      case 'call.bridged':
        // A forwarded arriving call is taken when Telnyx bridges it to the number it went to. One
        // sent to a browser (RING_WEBRTC) is bridged as soon as LiveKit's SIP service takes it into
        // the room, before anyone is there: it is answered when the browser joins (LiveKit's webhook).
        if (
          call.direction === CallDirection.INBOUND &&
          call.transferredTo !== null &&
          call.transferredToChannel !== Channel.WEBRTC &&
          call.status === CallStatus.RINGING
        ) {
          await this.callbacks.apply({ callId: call.id, status: CallStatus.IN_PROGRESS, occurredAt: at });
        }
        return;
      case 'call.dtmf.received':
        if (event.payload?.digit) await this.callbacks.dtmfReceived(call.id, event.payload.digit);
        return;
      case 'call.machine.greeting.ended':
      case 'call.machine.premium.greeting.ended':
        // The beep (or the greeting's end): a message left now is heard whole.
        if (call.options.machineDetection === MachineDetection.DETECT_BEEP) {
          await this.callbacks.apply({ callId: call.id, status: CallStatus.VOICEMAIL, occurredAt: at });
        }
        return;
      case 'call.hangup': {
        const ended = hangupStatus(call, event.payload ?? {});
        await this.callbacks.apply({ callId: call.id, ...ended, occurredAt: at });
        // The caller hung up a call a browser had taken: the browser is let go from its room
        // (best effort: an empty room also closes by itself). Whoever ended it first closed it.
        if (call.roomName !== null && !isTerminal(call.status)) await this.closeRoom(call).catch(() => {});
        return;
      }
      case 'call.speak.ended':
      case 'call.playback.ended':
        // The voicemail greeting is over: record the message, after a beep.
        if (inVoicemail(payload.client_state) && call.status === CallStatus.VOICEMAIL && payload.call_control_id) {
          await this.voicemail.record(payload.call_control_id, call.id);
        }
        return;
      case 'call.recording.saved': {
        const saved = event.payload ?? {};
        await this.callbacks.recordingSaved({
          callId: call.id,
          providerRef: null,
          url: permanentRecordingUrl(saved),
          duration: recordingDuration(saved),
          // The recordings API knows it by its call and start time (the webhook carries no recording id).
          savedRef: saved.recording_started_at ?? null,
        });
        // The voicemail message is saved: the call ends (COMPLETED "voicemail").
        if (inVoicemail(payload.client_state) && !isTerminal(call.status) && payload.call_control_id)
          await this.voicemail.finish(payload.call_control_id, call.id);
        return;
      }
      case 'call.recording.error':
        await this.callbacks.recordingSaved({ callId: call.id, providerRef: null, url: null, duration: null, failed: true });
        if (inVoicemail(payload.client_state) && !isTerminal(call.status) && payload.call_control_id)
          await this.voicemail.finish(payload.call_control_id, call.id);
        return;
      default:
        // Other events (playback, bridging, speak, DTMF, …) change nothing the API shows.
        return;
    }
  }

  /** A call arriving at a number: the application owning `to` gets an INBOUND live call, ringing. */
  private async inbound(payload: Telnyx.CallInitiated.Payload): Promise<void> {
    const { call_control_id: id, from, to } = payload;
    if (!id || !from || !to) return;
    const call = await this.callbacks.inboundCall({
      provider: this.provider,
      providerCallId: id,
      from,
      to,
      fromChannel: Channel.PSTN,
      toChannel: Channel.PSTN,
      mode: 'live',
    });
    if (call) {
      await this.callbacks.apply({ callId: call.id, status: CallStatus.RINGING });
      // The number's routing: forwarded, or rung in a LiveKit room for a browser; else the application decides.
      const { routing, target } = await this.callbacks.routingOf(to, 'live');
      if (routing !== NumberRouting.APPLICATION && target) {
        const channel = routing === NumberRouting.FORWARD ? Channel.PSTN : Channel.WEBRTC;
        if (await this.route({ ...call, providerCallId: id }, target, channel)) await this.callbacks.routed(call.id, target, channel);
      }
      return;
    }
    // No application owns the number: refuse the call rather than let it ring out.
    await this.client.calls.actions.reject(id, { cause: 'CALL_REJECTED' }).catch(() => undefined);
  }

  /**
   * Telnyx reports a leg alive (initiated, answered) for a call that has already ended here: a
   * dial whose answer was lost (FAILED "provider_error"), or a call given up on after
   * CALL_SETUP_TIMEOUT_MS. Hang the leg up rather than leave someone on a line nobody controls.
   */
  private async hangUpOrphan(payload: LegRef): Promise<void> {
    if (payload.call_control_id) await this.client.calls.actions.hangup(payload.call_control_id, {}).catch(() => undefined);
  }

  /**
   * The call an event is about: by the call id in client_state, else by Telnyx's call_control_id.
   * An event of another leg carrying our client_state (the new leg of a transfer) is not about
   * our call's leg: ignored, so a busy transfer target never ends the call.
   */
  private async find(payload: LegRef): Promise<Call | null> {
    const ccid = typeof payload.call_control_id === 'string' ? payload.call_control_id : null;
    const id = callIdOf(payload.client_state);
    if (id && looksLikeCallId(id)) {
      const call = await this.callbacks.findCall({ callId: id });
      if (call && call.provider === this.provider) return call.providerCallId && ccid && ccid !== call.providerCallId ? null : call;
    }
    return ccid ? this.callbacks.findCall({ provider: this.provider, providerCallId: ccid }) : null;
  }
}
