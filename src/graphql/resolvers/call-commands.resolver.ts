import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { CallCommandType, type CommandArgs } from '../../domain/command-rules.js';
import type { CommandOutcome } from '../../domain/call-commands.js';
import type { CreateCallResult } from '../../domain/call-service.js';
import type { GatewayContext } from '../context.js';
import {
  CallIdInput,
  HoldCallInput,
  MuteCallInput,
  RejectCallInput,
  SendDtmfInput,
  SimulateDtmfInput,
  SimulateInboundCallInput,
  StartRecordingInput,
  TransferCallInput,
} from '../inputs/call-command.input.js';
import { CallCommandPayload, SimulateDtmfPayload } from '../types/call-command.type.js';
import { CreateCallPayload } from '../types/create-call.payload.js';

const NOTE = 'Expected failures (CALL_NOT_FOUND, CALL_NOT_ACTIVE, COMMAND_NOT_ALLOWED …) come back in userErrors and change nothing.';

/** One mutation per call command (the contract); each maps its input to the domain's CommandArgs. */
@Resolver()
export class CallCommandsResolver {
  @Mutation(() => CallCommandPayload, { description: `Answers a ringing inbound call: it moves to IN_PROGRESS. ${NOTE}` })
  answerCall(@Arg('input', () => CallIdInput, { description: 'The call.' }) input: CallIdInput, @Ctx() ctx: GatewayContext): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.ANSWER });
  }

  @Mutation(() => CallCommandPayload, {
    description: `Refuses a ringing inbound call: it ends BUSY, endReason BUSY (reason BUSY) or REJECTED (DECLINED). ${NOTE}`,
  })
  rejectCall(
    @Arg('input', () => RejectCallInput, { description: 'The call and the reason.' }) input: RejectCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.REJECT, reason: input.reason });
  }

  @Mutation(() => CallCommandPayload, {
    description: `Ends a call: before answer an outbound call is CANCELED ("hangup") and a ringing inbound one declined, BUSY ("rejected"); once answered COMPLETED ("hangup"). ${NOTE}`,
  })
  hangupCall(@Arg('input', () => CallIdInput, { description: 'The call.' }) input: CallIdInput, @Ctx() ctx: GatewayContext): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.HANGUP });
  }

  @Mutation(() => CallCommandPayload, { description: `Puts a call IN_PROGRESS on hold (Call.onHold). ${NOTE}` })
  holdCall(
    @Arg('input', () => HoldCallInput, { description: 'The call and optional hold music.' }) input: HoldCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.HOLD, musicUrl: input.musicUrl ?? null });
  }

  @Mutation(() => CallCommandPayload, { description: `Takes a call off hold. ${NOTE}` })
  unholdCall(@Arg('input', () => CallIdInput, { description: 'The call.' }) input: CallIdInput, @Ctx() ctx: GatewayContext): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.UNHOLD });
  }

  @Mutation(() => CallCommandPayload, { description: `Mutes one leg of a call IN_PROGRESS (Call.mutedLegs). ${NOTE}` })
  muteCall(
    @Arg('input', () => MuteCallInput, { description: 'The call and the leg.' }) input: MuteCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.MUTE, leg: input.leg });
  }

  @Mutation(() => CallCommandPayload, { description: `Unmutes one leg. ${NOTE}` })
  unmuteCall(
    @Arg('input', () => MuteCallInput, { description: 'The call and the leg.' }) input: MuteCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.UNMUTE, leg: input.leg });
  }

  @Mutation(() => CallCommandPayload, {
    description:
      'Transfers a call IN_PROGRESS to another address (Call.transferredTo). PSTN to PSTN calls (Telnyx): to a PSTN number, or, for an inbound call, to a WEBRTC ' +
      'identity, which brings the call into a LiveKit room over SIP (Call.livekitRoomName; the identity joins with createCallToken). Calls in a LiveKit room: any channel ' +
      `the gateway can bring into a room. ${NOTE}`,
  })
  transferCall(
    @Arg('input', () => TransferCallInput, { description: 'The call and the new destination.' }) input: TransferCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.TRANSFER, to: input.to, toChannel: input.toChannel });
  }

  @Mutation(() => CallCommandPayload, { description: `Starts recording an answered call; the file appears in Call.recordings once saved. ${NOTE}` })
  startRecording(
    @Arg('input', () => StartRecordingInput, { description: 'The call and the format.' }) input: StartRecordingInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.START_RECORDING, format: input.format ?? null });
  }

  @Mutation(() => CallCommandPayload, { description: `Stops the recording; the provider then saves it (RECORDING_SAVED). ${NOTE}` })
  stopRecording(@Arg('input', () => CallIdInput, { description: 'The call.' }) input: CallIdInput, @Ctx() ctx: GatewayContext): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.STOP_RECORDING });
  }

  @Mutation(() => CallCommandPayload, {
    description: `Sends a call IN_PROGRESS, or a ringing inbound call, to voicemail (VOICEMAIL, then COMPLETED with endReason VOICEMAIL); not while it is being recorded (stopRecording first: the message is a recording of its own). ${NOTE}`,
  })
  sendToVoicemail(@Arg('input', () => CallIdInput, { description: 'The call.' }) input: CallIdInput, @Ctx() ctx: GatewayContext): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.SEND_TO_VOICEMAIL });
  }

  @Mutation(() => CallCommandPayload, {
    description: `Plays DTMF tones to a call IN_PROGRESS (an IVR menu, an extension): Telnyx send_dtmf, and the simulator; calls in a LiveKit room refuse it (LiveKit sends DTMF only from a participant in the room). A DTMF_SENT event carries the digits. ${NOTE}`,
  })
  sendDtmf(
    @Arg('input', () => SendDtmfInput, { description: 'The call and the keys.' }) input: SendDtmfInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CommandOutcome> {
    return run(ctx, input.callId, { type: CallCommandType.SEND_DTMF, digits: input.digits, durationMs: input.duration });
  }

  @Mutation(() => SimulateDtmfPayload, {
    description:
      'Test keys only: a party of a test call IN_PROGRESS (or VOICEMAIL) presses keys, as Telnyx reports call.dtmf.received: a DTMF_RECEIVED event on callStatus and to webhook endpoints.',
  })
  simulateDtmf(@Arg('input', () => SimulateDtmfInput, { description: 'The call and the keys.' }) input: SimulateDtmfInput, @Ctx() ctx: GatewayContext) {
    return ctx.calls.simulateDtmf(input.callId, input.digits);
  }

  @Mutation(() => CreateCallPayload, {
    description:
      "Test keys only: a call arrives at one of the application's numbers, rings, and waits for answerCall, rejectCall or sendToVoicemail (NO_ANSWER after 30 s × SIMULATOR_TIME_SCALE).",
  })
  simulateInboundCall(
    @Arg('input', () => SimulateInboundCallInput, { description: 'The arriving call.' }) input: SimulateInboundCallInput,
    @Ctx() ctx: GatewayContext,
  ): Promise<CreateCallResult> {
    return ctx.calls.simulateInbound(input);
  }
}

function run(ctx: GatewayContext, callId: string, args: CommandArgs): Promise<CommandOutcome> {
  return ctx.commands.run(callId, args);
}
