import type { AnsweredBy, Call, CallEvent, CallEventKind, CallLeg, Channel, Tenant } from './call.js';
import type { CallCommand, CommandArgs, Recording, RecordingFormat, RecordingKind } from './command-rules.js';
import type { CallStatus } from './call.js';

export type AcceptCommandResult =
  | { kind: 'accepted'; command: CallCommand }
  /** The call left the statuses the command applies in since it was read. */
  | { kind: 'state_changed' }
  /** A command of this type is already waiting for its provider on this call. */
  | { kind: 'pending' };

/** A command's effect on the call's flags, applied with its event in one statement. */
export type CallEffect =
  | { type: CallEventKind.HELD }
  | { type: CallEventKind.UNHELD }
  | { type: CallEventKind.MUTED; leg: CallLeg }
  | { type: CallEventKind.UNMUTED; leg: CallLeg }
  | { type: CallEventKind.TRANSFERRED; to: string; toChannel: Channel }
  | { type: CallEventKind.RECORDING_STARTED; recordingId: string; format: RecordingFormat; providerRef: string | null; kind: RecordingKind }
  | { type: CallEventKind.RECORDING_STOPPED }
  | { type: CallEventKind.DTMF_SENT; digits: string }
  | { type: CallEventKind.DTMF_RECEIVED; digits: string }
  | {
      type: CallEventKind.RECORDING_SAVED;
      recordingId: string;
      url: string | null;
      duration: number | null;
      failed: boolean;
      /** Kept when the recording had none (a provider that names its recordings only once saved). */
      providerRef: string | null;
    }
  | { type: CallEventKind.COMMAND_FAILED; error: string };

export interface EffectPlan {
  callId: string;
  eventId: string;
  occurredAt: Date;
  effect: CallEffect;
  /** The command that causes it (APPLIED with it, or FAILED for COMMAND_FAILED); null for callbacks. */
  commandId: string | null;
  /** The effect applies only while the call is in one of these. */
  statuses: readonly CallStatus[];
}

/** Commands, their effects and recordings. Tenant-scoped reads, like CallStore. */
export interface CommandStore {
  accept(tenant: Tenant, command: { id: string; callId: string; args: CommandArgs }, statuses: readonly CallStatus[]): Promise<AcceptCommandResult>;
  /**
   * Applies an effect if the call is still in `plan.statuses` and the effect changes something
   * (a second HELD on a held call does not), appending its event; null otherwise.
   */
  applyEffect(plan: EffectPlan): Promise<{ call: Call; event: CallEvent } | null>;
  /** Marks a pending command FAILED (no event: see applyEffect with COMMAND_FAILED for one). */
  markFailed(commandId: string, error: string): Promise<void>;
  /** Marks a pending command APPLIED without an effect (it changed nothing that is tracked). */
  markApplied(commandId: string): Promise<void>;
  findCommand(commandId: string): Promise<CallCommand | null>;
  commandsOf(tenant: Tenant, callIds: readonly string[]): Promise<Map<string, CallCommand[]>>;
  recordingsOf(tenant: Tenant, callIds: readonly string[]): Promise<Map<string, Recording[]>>;
  /** The recording a provider's callback is about: by the provider's reference, else the call's latest unsaved one. */
  findRecording(callId: string, providerRef: string | null): Promise<Recording | null>;
  /** One recording of the tenant, with its call; null if it is not the tenant's. */
  recordingById(tenant: Tenant, recordingId: string): Promise<{ recording: Recording; call: Call } | null>;
  /** Any call, by id or by the provider's id for it (callbacks are not tenant-scoped: they are signed). */
  findCall(ref: { callId: string } | { provider: string; providerCallId: string }): Promise<Call | null>;
  setProviderCallId(callId: string, providerCallId: string): Promise<void>;
  /** Records what answered the call (machine detection's result); the first result stays. */
  setAnsweredBy(callId: string, answeredBy: AnsweredBy): Promise<void>;
  /** Commands still waiting for their provider after `olderThanMs` (a lost confirmation). */
  overdueCommands(olderThanMs: number, limit: number): Promise<string[]>;
  /** Live calls that have not ended and had no event for `olderThanMs` while in one of `statuses`. */
  staleLiveCalls(statuses: readonly CallStatus[], olderThanMs: number, limit: number): Promise<{ id: string; appId: string }[]>;
}
