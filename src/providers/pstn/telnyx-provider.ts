import Telnyx from 'telnyx';
import { CallDirection, CallStatus, Channel, type Call } from '../../domain/call.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import type { Logger } from '../../domain/logger.js';
import {
  CallCommandType,
  RecordingFormat,
  RejectReason,
  recordingFormatFor,
  type CallCommand,
  type CommandArgs,
  type Recording,
  type RECORDING_FORMATS,
} from '../../domain/command-rules.js';
import { ProviderError, type ChannelProvider, type CommandResult, type PlaceCallResult, type ProviderWebhook } from '../../domain/channel-provider.js';
import type { TelnyxConfig } from '../../config/providers.js';
import type { RoomBridge } from '../room-leg.js';
import { TELNYX_FORMATS, clientState, telnyxDetection, toProviderError } from './telnyx-mapping.js';
import { TelnyxWebhook } from './telnyx-webhook.js';
import { TelnyxVoicemail } from './telnyx-voicemail.js';

/**
 * PSTN to PSTN calls on Telnyx Call Control v2, through the official `telnyx` SDK. Our call id
 * travels as `client_state` (base64), so every webhook names the call it is about; Telnyx's
 * call_control_id is stored as the provider's id for the call (inbound calls have no client_state
 * until answered). See docs/providers/telnyx.md.
 *
 * Commands, as Call Control offers them (https://developers.telnyx.com/api/call-control):
 * hangup → actions/hangup; answer → actions/answer; reject → actions/reject (USER_BUSY or
 * CALL_REJECTED); transfer → actions/transfer (PSTN numbers only); hold → actions/playback_start
 * of the hold music, looped (Call Control has no hold action for a call leg: the held party hears
 * the music), unhold → actions/playback_stop; startRecording / stopRecording →
 * actions/record_start (MP3 or WAV) / record_stop; sendDtmf → actions/send_dtmf; sendToVoicemail → the gateway's own voicemail
 * (telnyx-voicemail.ts: answer, greeting, beep, the message recorded, hang up). Mute has no Call
 * Control action for a lone leg: refused.
 * An inbound call transferred to a WEBRTC identity goes to a LiveKit room over SIP (the bridge,
 * webrtc/sip-bridge.ts; LIVEKIT_SIP_URI): from then on mute, hold, recording and further
 * transfers act on the room's parties, and hangup stays here (the room is closed with it).
 * Every action carries our command id as Telnyx's `command_id`, so a retried request is ignored.
 */
export class TelnyxProvider implements ChannelProvider {
  readonly name = 'telnyx';
  private readonly client: Telnyx;
  private readonly voicemail: TelnyxVoicemail;

  constructor(
    private readonly config: TelnyxConfig,
    private readonly publicUrl: string,
    private readonly callbacks: ProviderCallbacks,
    private readonly bridge: RoomBridge | null = null,
  ) {
    // One retry for actions (connection errors, 429, 5xx): safe, Telnyx drops a repeated command_id.
    this.client = new Telnyx({ apiKey: config.apiKey, publicKey: config.publicKey, baseURL: config.baseUrl, timeout: 10_000, maxRetries: 1 });
    this.voicemail = new TelnyxVoicemail(this.client, config.voicemail, callbacks);
  }

  get webhookUrl(): string {
    return `${this.publicUrl}/webhooks/telnyx`;
  }

  webhook(): ProviderWebhook {
    return new TelnyxWebhook({
      client: this.client,
      toleranceSeconds: this.config.webhookToleranceSeconds,
      callbacks: this.callbacks,
      provider: this.name,
      voicemail: this.voicemail,
      route: (call, to, channel) => this.routeInbound(call, to, channel),
      closeRoom: async (call) => this.bridge?.close(call),
    });
  }

  /**
   * The browser that took a call left its room (LiveKit's webhook): the caller's leg is hung up
   * and the room closed, best effort (logged; Telnyx's own hangup webhook follows).
   */
  async hangUpBridged(call: Call, logger: Logger): Promise<void> {
    try {
      if (call.providerCallId) {
        const id = call.providerCallId;
        await this.send(() => this.client.calls.actions.hangup(id, { client_state: clientState(call.id), command_id: `browser-left-${call.id}` }));
      }
      await this.bridge?.close(call);
    } catch (error) {
      logger.warn('the caller of a call whose browser left was not hung up', { callId: call.id, error: (error as Error).message });
    }
  }

  /**
   * A number's routing for an arriving call: Telnyx `transfer` of the ringing leg to the forward
   * number, or (RING_WEBRTC) into the call's LiveKit room over SIP, the room made first. false
   * when it cannot (no LiveKit SIP configured, Telnyx refused): the application decides then.
   */
  private async routeInbound(call: Call, to: string, channel: Channel): Promise<boolean> {
    if (!call.providerCallId || (channel === Channel.WEBRTC && !this.bridge)) return false;
    try {
      const target = channel === Channel.WEBRTC ? await this.bridge!.open(call) : to;
      await this.send(() =>
        this.client.calls.actions.transfer(call.providerCallId!, {
          to: target,
          from: call.fromAddress,
          client_state: clientState(call.id),
          command_id: `route-${call.id}`,
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  async placeCall(call: Call): Promise<PlaceCallResult> {
    const response = await this.send(() =>
      this.client.calls.dial(
        {
          connection_id: this.config.connectionId,
          from: call.fromAddress,
          to: call.toAddress,
          client_state: clientState(call.id),
          webhook_url: this.webhookUrl,
          webhook_url_method: 'POST',
          // A voicemail box that answers is reported as call.machine.detection.ended: VOICEMAIL
          // (unless machineDetection is OFF).
          answering_machine_detection: telnyxDetection(call.options.machineDetection),
          timeout_secs: call.options.ringTimeout ?? 60,
          ...(call.options.timeLimit !== undefined ? { time_limit_secs: call.options.timeLimit } : {}),
          ...(call.options.callerName !== undefined ? { from_display_name: call.options.callerName } : {}),
        },
        // A dial has no command_id: retrying one whose answer was lost could ring the number twice.
        { maxRetries: 0 },
      ),
    );
    const id = response.data?.call_control_id;
    if (!id) throw new ProviderError(this.name, 'Telnyx returned no call_control_id for the dialed call');
    return { providerCallId: id };
  }

  unsupported(args: CommandArgs, call: Call): string | null {
    const refusal = this.refusal(args, call);
    if (refusal) return refusal;
    return call.providerCallId ? null : 'Telnyx has not yet given this call an id; try again in a moment';
  }

  private refusal(args: CommandArgs, call: Call): string | null {
    if (call.roomName !== null) return this.bridgedRefusal(args, call);
    switch (args.type) {
      case CallCommandType.MUTE:
      case CallCommandType.UNMUTE:
        return 'Telnyx Call Control cannot mute a single call leg (mute exists only for conference participants); mute is available on calls whose legs meet in a LiveKit room';
      case CallCommandType.TRANSFER:
        if (args.toChannel === Channel.PSTN) return null;
        if (args.toChannel !== Channel.WEBRTC)
          return `Telnyx Call Control transfers to PSTN numbers and WebRTC identities, not to ${args.toChannel.toUpperCase()}`;
        if (!this.bridge)
          return 'Transferring a PSTN call to WebRTC brings it into a LiveKit room over SIP, which is not configured here (LIVEKIT_URL and LIVEKIT_SIP_URI)';
        return call.direction === CallDirection.INBOUND
          ? null
          : 'Only an inbound PSTN call can be transferred to a WebRTC identity; an outbound call to a browser is placed with createCall (toChannel WEBRTC)';
      case CallCommandType.HOLD:
        return args.musicUrl || this.config.holdMusicUrl
          ? null
          : 'Hold on Telnyx plays music to the held party: give musicUrl (no default is set: TELNYX_HOLD_MUSIC_URL)';
      default:
        return null;
    }
  }

  /** A call brought into a LiveKit room: the room's parties take the commands that act on them. */
  private bridgedRefusal(args: CommandArgs, call: Call): string | null {
    if (!this.bridge) return 'This call was brought into a LiveKit room, which is no longer configured here (LIVEKIT_URL and LIVEKIT_SIP_URI)';
    switch (args.type) {
      case CallCommandType.HANGUP:
      case CallCommandType.SEND_DTMF:
        return null;
      case CallCommandType.TRANSFER:
        return args.toChannel === Channel.WEBRTC
          ? null
          : 'This call was taken by a WebRTC client in a LiveKit room: it can be transferred to another WEBRTC identity only';
      case CallCommandType.SEND_TO_VOICEMAIL:
        return 'This call was taken by a WebRTC client in a LiveKit room, which has no voicemail';
      default:
        return this.bridge.unsupported(args, call);
    }
  }

  async execute(call: Call, command: CallCommand): Promise<CommandResult> {
    // A call brought into a room: its parties are there, but hangup and DTMF stay on the Telnyx leg.
    if (call.roomName !== null && command.args.type !== CallCommandType.HANGUP && command.args.type !== CallCommandType.SEND_DTMF) {
      return this.bridge!.execute(call, command);
    }
    const id = call.providerCallId;
    if (!id) throw new ProviderError(this.name, 'Telnyx has not yet given this call an id');
    const actions = this.client.calls.actions;
    const state = { client_state: clientState(call.id), command_id: command.id };
    const args = command.args;
    switch (args.type) {
      case CallCommandType.ANSWER:
        await this.send(() => actions.answer(id, { ...state, webhook_url: this.webhookUrl, webhook_url_method: 'POST' }));
        break;
      case CallCommandType.REJECT:
        await this.send(() => actions.reject(id, { ...state, cause: args.reason === RejectReason.BUSY ? 'USER_BUSY' : 'CALL_REJECTED' }));
        break;
      case CallCommandType.HANGUP:
        await this.send(() => actions.hangup(id, state));
        // The room's WebRTC party is let go too (the SIP leg ends with the call).
        if (call.roomName !== null) await this.bridge?.close(call);
        break;
      case CallCommandType.TRANSFER: {
        // To a WebRTC identity: into the call's LiveKit room, over SIP (the caller's number presented).
        const to = args.toChannel === Channel.WEBRTC ? await this.bridge!.open(call) : args.to;
        await this.send(() => actions.transfer(id, { ...state, to, from: call.fromAddress }));
        break;
      }
      case CallCommandType.SEND_TO_VOICEMAIL:
        // A ringing call is answered first; its call.answered then greets (telnyx-webhook.ts).
        await this.send(() =>
          call.status === CallStatus.RINGING ? this.voicemail.answer(id, call.id, command.id) : this.voicemail.greet(id, call.id, command.id),
        );
        break;
      case CallCommandType.HOLD:
        await this.send(() => actions.startPlayback(id, { ...state, audio_url: args.musicUrl ?? this.config.holdMusicUrl, loop: 'infinity' }));
        break;
      case CallCommandType.UNHOLD:
        await this.send(() => actions.stopPlayback(id, { ...state, stop: 'all' }));
        break;
      case CallCommandType.START_RECORDING:
        await this.send(() =>
          actions.startRecording(id, {
            ...state,
            format: TELNYX_FORMATS[recordingFormatFor(args, call) as (typeof RECORDING_FORMATS.callControl)[number]],
            channels: 'dual',
            play_beep: false,
          }),
        );
        break;
      case CallCommandType.STOP_RECORDING:
        await this.send(() => actions.stopRecording(id, state));
        break;
      case CallCommandType.SEND_DTMF:
        await this.send(() => actions.sendDtmf(id, { ...state, digits: args.digits, duration_millis: args.durationMs }));
        break;
      default:
        throw new ProviderError(this.name, `${args.type} is not supported by Telnyx`);
    }
    // Call Control answers an action once it has taken it: the answer is the confirmation.
    return { confirmed: true };
  }

  /**
   * A link to a saved recording that works now: its permanent public link when Telnyx gave one,
   * else a fresh presigned download link from the recordings API (GET /v2/recordings, by the
   * call's call_control_id), the recording being the one that started at `providerRef`.
   */
  async freshRecordingLink(call: Call, recording: Recording): Promise<string | null> {
    if (recording.url) return recording.url;
    if (!call.providerCallId) return null;
    const page = await this.send(() => this.client.recordings.list({ filter: { call_control_id: call.providerCallId! } }));
    const found = page.data.find((candidate) => recording.providerRef !== null && candidate.recording_started_at === recording.providerRef);
    const urls = found?.download_urls;
    return (recording.format === RecordingFormat.WAV ? urls?.wav : urls?.mp3) ?? urls?.mp3 ?? urls?.wav ?? null;
  }

  /** Runs an SDK request; any failure becomes a ProviderError carrying Telnyx's own message. */
  private async send<T>(request: () => PromiseLike<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toProviderError(this.name, error);
    }
  }
}
