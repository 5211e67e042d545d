import { EgressClient, EncodedFileOutput, EncodedFileType, RoomServiceClient, TrackType } from 'livekit-server-sdk';
import { CallDirection, CallLeg, CallStatus, Channel as ChannelValue, MachineDetection, type Call, type CallOptions, type Channel } from '../../domain/call.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import {
  CallCommandType,
  RecordingFormat,
  recordingFormatFor,
  type CallCommand,
  type CommandArgs,
  type RECORDING_FORMATS,
} from '../../domain/command-rules.js';
import { ProviderError, type ChannelProvider, type CommandResult, type PlaceCallResult } from '../../domain/channel-provider.js';
import type { LiveKitConfig } from '../../config/providers.js';
import type { RoomLeg } from '../room-leg.js';
import { livekit } from './livekit-errors.js';
import { calleeIdentity, partyIdentity } from './legs.js';

/** Who is who in a call's room: the identities of its two legs, and of the party hold applies to. */
export interface RoomParties {
  from: string;
  to: string;
  held: string;
}

type RoomFormat = (typeof RECORDING_FORMATS.room)[number];
/** Room composite egress's file type for each format the domain's table gives calls in a room (the compiler holds them together). */
const EGRESS_TYPES: Record<RoomFormat, EncodedFileType> = {
  [RecordingFormat.MP4]: EncodedFileType.MP4,
  [RecordingFormat.OGG]: EncodedFileType.OGG,
  [RecordingFormat.MP3]: EncodedFileType.MP3,
};

/**
 * Every call with a WebRTC or WhatsApp leg meets in a LiveKit room named after the call, through
 * the official livekit-server-sdk. The room is created when the call is placed; the called party
 * is brought in by the RoomLeg of its channel (a WebRTC client joins with a token, a PSTN number
 * is dialed over SIP, a WhatsApp user through the connector); LiveKit's webhooks say who joined
 * and left (livekit-webhook.ts).
 *
 * Commands act on the room: hangup deletes it; mute mutes the leg's published audio tracks;
 * hold takes the called party's publish and subscribe permissions away (they hear nothing and
 * are not heard) and unhold gives them back; transfer brings the new party in and removes the
 * old one; recording is room composite egress (audio only, MP4, OGG or MP3).
 */
export class LiveKitProvider implements ChannelProvider {
  readonly name = 'livekit';
  readonly rooms: RoomServiceClient;
  private readonly egress: EgressClient;
  private readonly legs = new Map<Channel, RoomLeg>();

  constructor(
    private readonly config: LiveKitConfig,
    private readonly callbacks: ProviderCallbacks,
    legs: RoomLeg[],
  ) {
    this.rooms = new RoomServiceClient(config.url, config.apiKey, config.apiSecret);
    this.egress = new EgressClient(config.url, config.apiKey, config.apiSecret);
    for (const leg of legs) this.legs.set(leg.channel, leg);
  }

  /** Whether a party on this channel can be brought into a room (PSTN needs a SIP trunk …). */
  reaches(channel: Channel): boolean {
    return this.legs.has(channel);
  }

  async placeCall(call: Call): Promise<PlaceCallResult> {
    const room = call.roomName;
    const leg = this.legs.get(call.toChannel);
    if (!room || !leg) throw new ProviderError(this.name, `No LiveKit leg is configured for ${call.toChannel.toUpperCase()}`);
    await this.openRoom(room, call.id);
    const { legId } = await leg.dial(call);
    // The room is up and the called party is being reached: it rings.
    await this.callbacks.apply({ callId: call.id, status: CallStatus.RINGING });
    return { providerCallId: legId };
  }

  /** Creates the call's room (a no-op when it exists). */
  async openRoom(room: string, callId: string): Promise<void> {
    await livekit(() =>
      this.rooms.createRoom({
        name: room,
        // Closes a room nobody joined within a minute, and 20 s after the last party left.
        emptyTimeout: 60,
        departureTimeout: 20,
        maxParticipants: 8,
        metadata: JSON.stringify({ callId }),
      }),
    );
  }

  /**
   * A PSTN callee is dialed by LiveKit SIP, which rings it for ringingTimeout, ends it after
   * maxCallDuration and presents displayName; it has no answering-machine detection. A WebRTC
   * client joins when it will and a WhatsApp user is called by Meta: neither has any of these.
   */
  optionRefusals(options: CallOptions, channels: { toChannel: Channel }): { option: keyof CallOptions; reason: string }[] {
    const refusals: { option: keyof CallOptions; reason: string }[] = [];
    const callee = channels.toChannel.toUpperCase();
    const sip = channels.toChannel === ChannelValue.PSTN;
    if (!sip) {
      if (options.ringTimeout !== undefined)
        refusals.push({ option: 'ringTimeout', reason: `A ${callee} callee in a LiveKit room is not dialed: there is no ringing to time out` });
      if (options.timeLimit !== undefined)
        refusals.push({ option: 'timeLimit', reason: `LiveKit limits the duration of SIP calls only, not of a ${callee} leg` });
      if (options.callerName !== undefined) refusals.push({ option: 'callerName', reason: `A ${callee} callee sees no caller name from LiveKit` });
    }
    if (options.machineDetection !== undefined && options.machineDetection !== MachineDetection.OFF) {
      refusals.push({
        option: 'machineDetection',
        reason: 'LiveKit has no answering-machine detection: machineDetection works on PSTN to PSTN calls (Telnyx)',
      });
    }
    return refusals;
  }

  unsupported(args: CommandArgs, call: Call): string | null {
    const inboundLeg = this.legs.get(call.fromChannel);
    switch (args.type) {
      case CallCommandType.ANSWER:
        return inboundLeg?.answer ? null : `Inbound ${call.fromChannel.toUpperCase()} calls cannot be answered through LiveKit`;
      case CallCommandType.REJECT:
        return inboundLeg?.reject ? null : `Inbound ${call.fromChannel.toUpperCase()} calls cannot be rejected through LiveKit`;
      case CallCommandType.HOLD:
        return args.musicUrl ? 'Calls in a LiveKit room are held in silence: musicUrl is not supported there' : null;
      case CallCommandType.TRANSFER:
        return this.legs.has(args.toChannel) ? null : `No LiveKit leg is configured to bring in a ${args.toChannel.toUpperCase()} party`;
      case CallCommandType.SEND_DTMF:
        return "LiveKit sends DTMF only from a participant in the room (publishDtmf), and the gateway is not one: a WebRTC client in the call's room can send it";
      case CallCommandType.SEND_TO_VOICEMAIL:
        return 'Calls in a LiveKit room have no voicemail: a greeting cannot be played into a room without an agent or ingress joining it, so sendToVoicemail is refused there; to take a message, answer the call and startRecording';
      default:
        return null;
    }
  }

  async execute(call: Call, command: CallCommand): Promise<CommandResult> {
    const room = call.roomName;
    if (!room) throw new ProviderError(this.name, 'The call has no LiveKit room');
    const args = command.args;
    switch (args.type) {
      case CallCommandType.HANGUP:
        await livekit(() => this.rooms.deleteRoom(room));
        return { confirmed: true };
      case CallCommandType.ANSWER:
        await this.legs.get(call.fromChannel)!.answer!(call);
        return { confirmed: true };
      case CallCommandType.REJECT:
        await this.legs.get(call.fromChannel)!.reject!(call, args.reason);
        return { confirmed: true };
      default:
        return this.executeInRoom(call, command, {
          from: partyIdentity(call.fromChannel, call.fromAddress),
          to: calleeIdentity(call),
          held: this.heldIdentity(call),
        });
    }
  }

  /**
   * Carries out a command that acts on the room's participants (mute, hold, transfer, recording),
   * for a call carried here or by another provider whose call was brought into the room over SIP
   * (sip-bridge.ts): `parties` says who is who in the room.
   */
  async executeInRoom(call: Call, command: CallCommand, parties: RoomParties): Promise<CommandResult> {
    const room = call.roomName;
    if (!room) throw new ProviderError(this.name, 'The call has no LiveKit room');
    const args = command.args;
    switch (args.type) {
      case CallCommandType.MUTE:
      case CallCommandType.UNMUTE:
        await this.muteAudio(room, args.leg === CallLeg.FROM ? parties.from : parties.to, args.type === CallCommandType.MUTE);
        return { confirmed: true };
      case CallCommandType.HOLD:
      case CallCommandType.UNHOLD: {
        const on = args.type === CallCommandType.UNHOLD;
        await livekit(() => this.rooms.updateParticipant(room, parties.held, { permission: { canPublish: on, canSubscribe: on, canPublishData: true } }));
        return { confirmed: true };
      }
      case CallCommandType.TRANSFER: {
        await this.legs.get(args.toChannel)!.dial({ ...call, toAddress: args.to, toChannel: args.toChannel });
        await livekit(() => this.rooms.removeParticipant(room, parties.to)).catch((error: unknown) => {
          // The previous party may have left already; the transfer itself happened.
          if (!(error instanceof ProviderError && error.status === 404)) throw error;
        });
        return { confirmed: true };
      }
      case CallCommandType.START_RECORDING: {
        // The domain refused any format not in the room's list (command-rules.ts).
        const format = recordingFormatFor(args, call) as RoomFormat;
        const output = new EncodedFileOutput({
          fileType: EGRESS_TYPES[format],
          filepath: `${this.config.recordingsPath}${call.id}/{time}.${format}`,
        });
        const info = await livekit(() => this.egress.startRoomCompositeEgress(room, { file: output }, { audioOnly: true }));
        return { confirmed: true, providerRef: info.egressId };
      }
      case CallCommandType.STOP_RECORDING: {
        const active = await livekit(() => this.egress.listEgress({ roomName: room, active: true }));
        for (const egress of active) await livekit(() => this.egress.stopEgress(egress.egressId));
        return { confirmed: true };
      }
      default:
        throw new ProviderError(this.name, `${args.type} is not supported in LiveKit rooms`);
    }
  }

  /** Deletes the call's room (ending every participant's session); a room already gone is fine. */
  async closeRoom(room: string): Promise<void> {
    await livekit(() => this.rooms.deleteRoom(room)).catch((error: unknown) => {
      if (!(error instanceof ProviderError && error.status === 404)) throw error;
    });
  }

  /** Who is put on hold: the party on the other side from the application (the caller, for an inbound call). */
  private heldIdentity(call: Call): string {
    return call.direction === CallDirection.INBOUND ? partyIdentity(call.fromChannel, call.fromAddress) : calleeIdentity(call);
  }

  private async muteAudio(room: string, identity: string, muted: boolean): Promise<void> {
    const participant = await livekit(() => this.rooms.getParticipant(room, identity));
    const audio = participant.tracks.filter((track) => track.type === TrackType.AUDIO);
    if (audio.length === 0) throw new ProviderError(this.name, `${identity} publishes no audio track to mute`);
    for (const track of audio) await livekit(() => this.rooms.mutePublishedTrack(room, identity, track.sid, muted));
  }
}
