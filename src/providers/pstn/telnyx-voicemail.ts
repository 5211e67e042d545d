import type Telnyx from 'telnyx';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { RecordingFormat } from '../../domain/command-rules.js';
import type { VoicemailConfig } from '../../config/providers.js';
import { clientState } from './telnyx-mapping.js';

/**
 * sendToVoicemail on Telnyx Call Control, which has no voicemail of its own: the gateway answers
 * (a ringing inbound call), greets the caller (`speak`, or `playback_start` of
 * TELNYX_VOICEMAIL_GREETING_URL), then records with a beep (`record_start`, `play_beep`), until
 * silence or the time limit ends the message; once saved, the call is hung up. Every step is
 * driven by the webhook of the previous one (telnyx-webhook.ts), each carrying the flow in its
 * client_state. The message is a recording of kind VOICEMAIL on the call.
 *
 * Telnyx may deliver a webhook twice: every step sends a `command_id` of its own for the call,
 * which Telnyx documents as ignoring when repeated, so a redelivered event does not greet, record
 * or hang up twice (and the recording row is created once: the lifecycle refuses a second).
 */
export class TelnyxVoicemail {
  constructor(
    private readonly client: Telnyx,
    private readonly config: VoicemailConfig,
    private readonly callbacks: ProviderCallbacks,
  ) {}

  /** Step 1 for a ringing call: answer it (call.answered then greets). */
  async answer(ccid: string, callId: string, commandId: string): Promise<void> {
    await this.client.calls.actions.answer(ccid, { client_state: clientState(callId, 'voicemail'), command_id: commandId });
  }

  /** Step 2: the greeting (call.speak.ended or call.playback.ended then records). */
  async greet(ccid: string, callId: string, commandId = `voicemail-greeting-${callId}`): Promise<void> {
    const state = { client_state: clientState(callId, 'voicemail'), command_id: commandId };
    if (this.config.greetingUrl) await this.client.calls.actions.startPlayback(ccid, { ...state, audio_url: this.config.greetingUrl });
    else await this.client.calls.actions.speak(ccid, { ...state, payload: this.config.greeting, voice: 'female', language: 'en-US' });
  }

  /** Step 3: record the message after a beep; the recording (kind VOICEMAIL) is on the call at once. */
  async record(ccid: string, callId: string): Promise<void> {
    if (!(await this.callbacks.voicemailRecordingStarted({ callId, format: RecordingFormat.MP3, providerRef: null }))) return;
    try {
      await this.client.calls.actions.startRecording(ccid, {
        client_state: clientState(callId, 'voicemail'),
        command_id: `voicemail-record-${callId}`,
        format: 'mp3',
        channels: 'single',
        play_beep: true,
        max_length: this.config.maxSeconds,
        timeout_secs: this.config.silenceSeconds,
      });
    } catch (error) {
      await this.callbacks.recordingSaved({ callId, providerRef: null, url: null, duration: null, failed: true });
      throw error;
    }
  }

  /** Step 4, once the message is saved (or failed): the call ends (COMPLETED "voicemail"). */
  async finish(ccid: string, callId: string): Promise<void> {
    await this.client.calls.actions.hangup(ccid, { client_state: clientState(callId, 'voicemail'), command_id: `voicemail-hangup-${callId}` });
  }
}
