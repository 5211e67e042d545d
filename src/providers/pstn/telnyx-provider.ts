import Telnyx from 'telnyx';
import { Channel, type Call } from '../../domain/call.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { CallCommandType, RecordingFormat, RejectReason, type CallCommand, type CommandArgs } from '../../domain/commands.js';
import { ProviderError, type ChannelProvider, type CommandResult, type PlaceCallResult, type WebhookEndpoint } from '../channel-provider.js';
import type { TelnyxConfig } from '../provider-config.js';
import { TelnyxWebhook } from './telnyx-webhook.js';

/** Telnyx Call Control records these two formats only (record_start `format`). */
const TELNYX_FORMATS: Partial<Record<RecordingFormat, 'mp3' | 'wav'>> = { [RecordingFormat.MP3]: 'mp3', [RecordingFormat.WAV]: 'wav' };

/**
 * PSTN calls on Telnyx Call Control v2, through the official `telnyx` SDK. Our call id travels
 * as `client_state` (base64), so every webhook names the call it is about; Telnyx's
 * call_control_id is stored as the provider's id for the call (inbound calls have no client_state).
 *
 * Commands, as Call Control offers them (https://developers.telnyx.com/api/call-control):
 * hangup → actions/hangup; answer → actions/answer; reject → actions/reject (USER_BUSY or
 * CALL_REJECTED); transfer → actions/transfer (PSTN numbers only); hold → actions/playback_start
 * of the hold music, looped (Call Control has no hold action for a single call: the held party
 * hears the music instead of the application's audio), unhold → actions/playback_stop;
 * startRecording / stopRecording → actions/record_start (MP3 or WAV) / record_stop.
 * Not offered by Call Control for a lone call leg: mute and sendToVoicemail (refused, with why).
 */
export class TelnyxProvider implements ChannelProvider {
  readonly name = 'telnyx';
  private readonly client: Telnyx;

  constructor(
    private readonly config: TelnyxConfig,
    private readonly publicUrl: string,
    private readonly callbacks: ProviderCallbacks,
  ) {
    this.client = new Telnyx({ apiKey: config.apiKey, publicKey: config.publicKey, baseURL: config.baseUrl, timeout: 10_000, maxRetries: 1 });
  }

  get webhookUrl(): string {
    return `${this.publicUrl}/webhooks/telnyx`;
  }

  webhook(): WebhookEndpoint {
    return new TelnyxWebhook(this.client, this.config.webhookToleranceSeconds, this.callbacks, this);
  }

  async placeCall(call: Call): Promise<PlaceCallResult> {
    const response = await this.send(() =>
      this.client.calls.dial({
        connection_id: this.config.connectionId,
        from: call.fromAddress,
        to: call.toAddress,
        client_state: clientState(call.id),
        webhook_url: this.webhookUrl,
        webhook_url_method: 'POST',
        // A voicemail box that answers is reported as call.machine.detection.ended: VOICEMAIL.
        answering_machine_detection: 'detect',
        timeout_secs: 60,
      }),
    );
    const id = response.data?.call_control_id;
    if (!id) throw new ProviderError(this.name, 'Telnyx returned no call_control_id for the dialed call');
    return { providerCallId: id };
  }

  unsupported(args: CommandArgs, call: Call): string | null {
    switch (args.type) {
      case CallCommandType.MUTE:
      case CallCommandType.UNMUTE:
        return 'Telnyx Call Control cannot mute a single call leg; mute is available on calls whose legs meet in a LiveKit room';
      case CallCommandType.SEND_TO_VOICEMAIL:
        return 'Telnyx Call Control has no voicemail of its own for this call; sendToVoicemail is not available on PSTN to PSTN live calls';
      case CallCommandType.TRANSFER:
        return args.toChannel === Channel.PSTN ? null : `Telnyx Call Control transfers to PSTN numbers only, not to ${args.toChannel.toUpperCase()}`;
      case CallCommandType.START_RECORDING:
        return TELNYX_FORMATS[args.format] ? null : `Telnyx Call Control records MP3 or WAV, not ${args.format.toUpperCase()}`;
      case CallCommandType.HOLD:
        return args.musicUrl || this.config.holdMusicUrl ? null : 'Hold on Telnyx plays music to the held party: give musicUrl (or set TELNYX_HOLD_MUSIC_URL)';
      default:
        return call.providerCallId ? null : 'Telnyx has not yet given this call an id; try again in a moment';
    }
  }

  async execute(call: Call, command: CallCommand): Promise<CommandResult> {
    const id = call.providerCallId;
    if (!id) throw new ProviderError(this.name, 'Telnyx has not yet given this call an id');
    const actions = this.client.calls.actions;
    const state = { client_state: clientState(call.id), command_id: command.id };
    const args = command.args;
    switch (args.type) {
      case CallCommandType.ANSWER:
        await this.send(() => actions.answer(id, { ...state, webhook_url: this.webhookUrl }));
        break;
      case CallCommandType.REJECT:
        await this.send(() => actions.reject(id, { ...state, cause: args.reason === RejectReason.BUSY ? 'USER_BUSY' : 'CALL_REJECTED' }));
        break;
      case CallCommandType.HANGUP:
        await this.send(() => actions.hangup(id, state));
        break;
      case CallCommandType.TRANSFER:
        await this.send(() => actions.transfer(id, { ...state, to: args.to, from: call.fromAddress }));
        break;
      case CallCommandType.HOLD:
        await this.send(() => actions.startPlayback(id, { ...state, audio_url: args.musicUrl ?? this.config.holdMusicUrl ?? undefined, loop: 'infinity' }));
        break;
      case CallCommandType.UNHOLD:
        await this.send(() => actions.stopPlayback(id, { ...state, stop: 'all' }));
        break;
      case CallCommandType.START_RECORDING:
        await this.send(() => actions.startRecording(id, { ...state, format: TELNYX_FORMATS[args.format]!, channels: 'dual', play_beep: false }));
        break;
      case CallCommandType.STOP_RECORDING:
        await this.send(() => actions.stopRecording(id, state));
        break;
      default:
        throw new ProviderError(this.name, `${args.type} is not supported by Telnyx`);
    }
    // Call Control answers an action once it has taken it: the answer is the confirmation.
    return { confirmed: true };
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

export function clientState(callId: string): string {
  return Buffer.from(callId, 'utf8').toString('base64');
}

/** Telnyx errors are `{ errors: [{ code, title, detail }] }`; the SDK puts that body on `error`. */
function toProviderError(provider: string, error: unknown): ProviderError {
  if (error instanceof Telnyx.APIError) {
    const body = error.error as { errors?: { title?: string; detail?: string }[] } | undefined;
    const first = body?.errors?.[0];
    const message = first?.detail ?? first?.title ?? error.message;
    return new ProviderError(provider, `${message}${error.status ? ` (HTTP ${error.status})` : ''}`, error.status);
  }
  return new ProviderError(provider, `Telnyx could not be reached: ${(error as Error)?.message ?? String(error)}`);
}
