import {
  CallDirection,
  CallEventKind,
  CallStatus,
  EndReason,
  type AnsweredBy,
  type Call,
  type CallEvent,
  type Channel,
  type Metadata,
  type Mode,
} from './call.js';
import { NumberRouting, type PhoneNumberStore } from './phone-numbers.js';
import type { CallStore } from './call-store.js';
import type { CallEffect, CommandStore } from './command-store.js';
import {
  CallCommandType,
  PENDING_COMMAND_STATUSES,
  commandTransition,
  recordingFormatFor,
  RecordingKind,
  type RecordingFormat,
  statusesFor,
  type CallCommand,
  type CommandArgs,
  type Recording,
} from './command-rules.js';
import { newCallId, newEventId, newRecordingId } from './ids.js';
import { ANSWERED, APPLIES_FROM, RANK, TERMINAL, defaultEndReason, defaultHangupSource, type StatusUpdate } from './call-status-rules.js';
import { roomsFor } from './call.js';

/** Told after events were appended to a call's timeline and committed (the sequencer listens). */
export type EventsWrittenListener = () => void;

/** Statuses that mean the destination rang (startedAt is set on the first of them). */
const RANG: ReadonlySet<CallStatus> = new Set([CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL, CallStatus.COMPLETED, CallStatus.NO_ANSWER]);
const ALL_STATUSES = Object.values(CallStatus);

export interface InboundCall {
  provider: string;
  providerCallId: string | null;
  from: string;
  /** The application's number (PSTN, WhatsApp) or a client identity (WebRTC). */
  to: string;
  fromChannel: Channel;
  toChannel: Channel;
  mode: 'test' | 'live';
  /** The application, when the caller knows it (a test key); else the owner of the number `to`. */
  appId?: string;
  /** With appId: `to` must be a number of that application. */
  requireAssignedNumber?: boolean;
  metadata?: Metadata;
}

export interface RecordingSaved {
  callId: string;
  /** The provider's id for the recording; null: the call's latest unsaved one. */
  providerRef: string | null;
  /** The provider's reference, when it names the recording only now (kept on the recording). */
  savedRef?: string | null;
  /** Where the file is; a function when the URL is made from the gateway's recording id. */
  url: string | null | ((recording: Recording) => string);
  /** Seconds; null: from the recording's start to now. */
  duration: number | null;
  failed?: boolean;
}

/**
 * What providers (and the simulator) may report: status changes, command confirmations,
 * recordings, inbound calls. Every update is decided atomically by the database, so a
 * duplicated, late or concurrent callback changes nothing.
 */
export interface ProviderCallbacks {
  apply(update: StatusUpdate): Promise<{ call: Call; event: CallEvent } | null>;
  /** The provider confirmed a command it had accepted earlier. */
  commandConfirmed(commandId: string, providerRef?: string | null): Promise<void>;
  /** The provider reported that a command it had accepted failed. */
  commandFailed(commandId: string, message: string): Promise<void>;
  /** A recording is stored (or could not be): `providerRef` names it, else the call's latest unsaved one. */
  recordingSaved(saved: RecordingSaved): Promise<void>;
  /**
   * A provider started recording on its own, not for a startRecording command: the message a
   * caller leaves after sendToVoicemail (kind VOICEMAIL). Applies while the call is in VOICEMAIL
   * and not already being recorded; false otherwise.
   */
  voicemailRecordingStarted(started: { callId: string; format: RecordingFormat; providerRef: string | null }): Promise<boolean>;
  /** A call arrived for an application's number; null when no application owns `to`. */
  inboundCall(inbound: InboundCall): Promise<Call | null>;
  findCall(ref: { callId: string } | { provider: string; providerCallId: string }): Promise<Call | null>;
  setProviderCallId(callId: string, providerCallId: string): Promise<void>;
  /** Machine detection's result (before the VOICEMAIL it may lead to, so that event shows it). */
  machineDetected(callId: string, answeredBy: AnsweredBy): Promise<void>;
  /** A party pressed keys: a DTMF_RECEIVED event, while the call is answered; false when it is not. */
  dtmfReceived(callId: string, digits: string): Promise<boolean>;
  /** How a call arriving at `number` is routed (the number's routing in `mode`). */
  routingOf(number: string, mode: Mode): Promise<{ routing: NumberRouting; target: string | null }>;
  /** The WhatsApp phone-number id of `number` (a number of `appId`, when given); null: not a WhatsApp business number. */
  whatsappIdOf(number: string, appId?: string): Promise<string | null>;
  /** The number whose WhatsApp phone-number id is `id`; null: none. */
  numberOfWhatsappId(id: string): Promise<string | null>;
  /** The routing sent the arriving call to `to`: a TRANSFERRED event (the call has not been answered). */
  routed(callId: string, to: string, toChannel: Channel): Promise<{ call: Call; event: CallEvent } | null>;
}

/**
 * The one entry point for everything that changes a call after it is created: provider
 * callbacks, the simulator and confirmed commands.
 */
/** A century: the idempotency window of provider call ids (they never expire in practice). */
const PROVIDER_KEYS_NEVER_EXPIRE_MS = 100 * 365 * 24 * 60 * 60 * 1000;

export class CallLifecycle implements ProviderCallbacks {
  private readonly listeners: EventsWrittenListener[] = [];
  private readonly answeredListeners: ((call: Call) => void)[] = [];

  constructor(
    private readonly store: CallStore,
    private readonly commands: CommandStore,
    /** Per-number inbound routing; absent: every number routes to the application. */
    private readonly numbers: Pick<PhoneNumberStore, 'routingOf' | 'whatsappIdOf' | 'numberOfWhatsappId'> | null = null,
  ) {}

  routingOf(number: string, mode: Mode): Promise<{ routing: NumberRouting; target: string | null }> {
    return this.numbers ? this.numbers.routingOf(number, mode) : Promise.resolve({ routing: NumberRouting.APPLICATION, target: null });
  }

  async whatsappIdOf(number: string, appId?: string): Promise<string | null> {
    return this.numbers ? this.numbers.whatsappIdOf(number, appId) : null;
  }

  async numberOfWhatsappId(id: string): Promise<string | null> {
    return this.numbers ? this.numbers.numberOfWhatsappId(id) : null;
  }

  /** The number's routing sent an arriving call on (FORWARD, RING_WEBRTC): a TRANSFERRED event, before anyone answered. */
  async routed(callId: string, to: string, toChannel: Channel): Promise<{ call: Call; event: CallEvent } | null> {
    return this.told(
      await this.commands.applyEffect({
        callId,
        eventId: newEventId(),
        occurredAt: new Date(),
        effect: { type: CallEventKind.TRANSFERRED, to, toChannel },
        commandId: null,
        statuses: [CallStatus.INITIATED, CallStatus.RINGING],
      }),
    );
  }

  onEventsWritten(listener: EventsWrittenListener): void {
    this.listeners.push(listener);
  }

  /**
   * Told once per call, by the process whose update answered it (IN_PROGRESS applies once), when
   * the call asked for recordFromAnswer: the composition root starts the recording then.
   */
  onAnsweredToRecord(listener: (call: Call) => void): void {
    this.answeredListeners.push(listener);
  }

  machineDetected(callId: string, answeredBy: AnsweredBy): Promise<void> {
    return this.commands.setAnsweredBy(callId, answeredBy);
  }

  async dtmfReceived(callId: string, digits: string): Promise<boolean> {
    // What a provider reports is kept as it came, within the bounds of an event.
    const kept = digits.replace(/[^0-9A-D*#]/g, '').slice(0, 64);
    if (!kept) return false;
    const applied = await this.commands.applyEffect({
      callId,
      eventId: newEventId(),
      occurredAt: new Date(),
      effect: { type: CallEventKind.DTMF_RECEIVED, digits: kept },
      commandId: null,
      statuses: [CallStatus.IN_PROGRESS, CallStatus.VOICEMAIL],
    });
    return this.told(applied) !== null;
  }

  private told<T>(applied: T): T {
    if (applied) for (const listener of this.listeners) listener();
    return applied;
  }

  /** Applies the update if it moves the call forward; returns the new state, or null (no-op). */
  async apply(update: StatusUpdate): Promise<{ call: Call; event: CallEvent } | null> {
    const to = update.status;
    const applied = await this.store.applyTransition({
      callId: update.callId,
      eventId: newEventId(),
      status: to,
      occurredAt: update.occurredAt ?? new Date(),
      appliesFrom: APPLIES_FROM[to],
      rang: RANG.has(to),
      answered: ANSWERED.has(to),
      terminal: TERMINAL.has(to),
      endReason: update.endReason ?? null,
      // Per status it may replace: the SQL picks the one it actually replaced (COMPLETED after VOICEMAIL: "voicemail").
      defaultEndReasons: APPLIES_FROM[to].map((from) => defaultEndReason(from, to)),
      commandId: update.commandId ?? null,
      hangupSource: TERMINAL.has(to) ? (update.hangupSource ?? defaultHangupSource(to, update.endReason ?? null, update.commandId ?? null)) : null,
      sipCode: TERMINAL.has(to) ? (update.sipCode ?? null) : null,
    });
    if (applied && to === CallStatus.IN_PROGRESS && applied.call.options.recordFromAnswer) {
      for (const listener of this.answeredListeners) listener(applied.call);
    }
    return this.told(applied);
  }

  /**
   * Applies a confirmed command's effect: a status change (answer, reject, hangup, voicemail)
   * or a flag (hold, mute, transfer, recording), with its event; the command becomes APPLIED in
   * the same statement. If the call moved on first (it ended), the command FAILS instead.
   */
  async applyCommand(command: CallCommand, call: Call, providerRef: string | null = null): Promise<{ call: Call; event: CallEvent } | null> {
    const transition = commandTransition(command.args, call);
    if (transition) {
      let applied = await this.apply({ callId: call.id, status: transition.status, endReason: transition.endReason, commandId: command.id });
      if (!applied && command.args.type === CallCommandType.HANGUP) {
        // Answered meanwhile: a hangup now completes the call instead of canceling it.
        const now = await this.commands.findCall({ callId: call.id });
        const retry = now && commandTransition(command.args, now);
        if (retry) applied = await this.apply({ callId: call.id, status: retry.status, endReason: retry.endReason, commandId: command.id });
      }
      if (!applied)
        await this.commandFailed(
          command.id,
          `The call moved on (${(await this.commands.findCall({ callId: call.id }))?.status.toUpperCase()}) before the command applied`,
        );
      return applied;
    }
    const effect = effectOf(command.args, call, providerRef);
    if (!effect) return null;
    const applied = this.told(
      await this.commands.applyEffect({
        callId: call.id,
        eventId: newEventId(),
        occurredAt: new Date(),
        effect,
        commandId: command.id,
        statuses: statusesFor(command.args.type),
      }),
    );
    if (!applied) {
      const now = await this.commands.findCall({ callId: call.id });
      if (now && statusesFor(command.args.type).includes(now.status)) await this.commands.markApplied(command.id);
      else await this.commandFailed(command.id, `The call moved on (${now?.status.toUpperCase()}) before the command applied`);
    }
    return applied;
  }

  async commandConfirmed(commandId: string, providerRef: string | null = null): Promise<void> {
    const command = await this.commands.findCommand(commandId);
    if (!command || !PENDING_COMMAND_STATUSES.includes(command.status)) return;
    const call = await this.commands.findCall({ callId: command.callId });
    if (call) await this.applyCommand(command, call, providerRef);
  }

  async commandFailed(commandId: string, message: string): Promise<void> {
    const command = await this.commands.findCommand(commandId);
    if (!command) return;
    const applied = this.told(
      await this.commands.applyEffect({
        callId: command.callId,
        eventId: newEventId(),
        occurredAt: new Date(),
        effect: { type: CallEventKind.COMMAND_FAILED, error: message.slice(0, 2_000) },
        commandId,
        statuses: ALL_STATUSES,
      }),
    );
    if (!applied) await this.commands.markFailed(commandId, message.slice(0, 2_000));
  }

  async voicemailRecordingStarted(started: { callId: string; format: RecordingFormat; providerRef: string | null }): Promise<boolean> {
    const applied = this.told(
      await this.commands.applyEffect({
        callId: started.callId,
        eventId: newEventId(),
        occurredAt: new Date(),
        effect: {
          type: CallEventKind.RECORDING_STARTED,
          recordingId: newRecordingId(),
          format: started.format,
          providerRef: started.providerRef,
          kind: RecordingKind.VOICEMAIL,
        },
        commandId: null,
        statuses: [CallStatus.VOICEMAIL],
      }),
    );
    return applied !== null;
  }

  async recordingSaved(saved: RecordingSaved): Promise<void> {
    const recording = await this.commands.findRecording(saved.callId, saved.providerRef);
    if (!recording) return;
    this.told(
      await this.commands.applyEffect({
        callId: saved.callId,
        eventId: newEventId(),
        occurredAt: new Date(),
        effect: {
          type: CallEventKind.RECORDING_SAVED,
          recordingId: recording.id,
          url: typeof saved.url === 'function' ? saved.url(recording) : saved.url,
          duration: saved.duration,
          failed: saved.failed ?? false,
          providerRef: saved.savedRef ?? null,
        },
        commandId: null,
        statuses: ALL_STATUSES,
      }),
    );
  }

  async inboundCall(inbound: InboundCall): Promise<Call | null> {
    const owner = inbound.appId === undefined || inbound.requireAssignedNumber ? await this.store.applicationOfNumber(inbound.to) : null;
    const appId = inbound.appId ?? owner;
    if (!appId || (inbound.requireAssignedNumber && owner !== appId)) return null;
    const id = newCallId(inbound.mode);
    const result = await this.store.insert(
      { appId, mode: inbound.mode },
      {
        id,
        eventId: newEventId(),
        direction: CallDirection.INBOUND,
        status: CallStatus.INITIATED,
        options: {},
        fromAddress: inbound.from,
        toAddress: inbound.to,
        fromChannel: inbound.fromChannel,
        toChannel: inbound.toChannel,
        metadata: inbound.metadata ?? {},
        ...roomsFor(id, inbound.fromChannel, inbound.toChannel),
        // A provider may deliver the same "call arrived" webhook twice: its id for the call is
        // the idempotency key, so the second delivery finds the first call (one statement). The
        // key never expires: a provider's call id names one call for ever, and a replayed
        // callback must never make a second one.
        idempotencyKey: inbound.providerCallId ? `inbound:${inbound.provider}:${inbound.providerCallId}` : null,
        requestFingerprint: null,
        provider: inbound.provider,
      },
      { requireAssignedNumber: false, idempotencyWindowMs: PROVIDER_KEYS_NEVER_EXPIRE_MS },
    );
    if (result.kind === 'idempotency_key_taken') return result.call;
    if (result.kind !== 'created') return null;
    if (inbound.providerCallId) await this.commands.setProviderCallId(id, inbound.providerCallId);
    this.told(true);
    return { ...result.call, providerCallId: inbound.providerCallId };
  }

  findCall(ref: { callId: string } | { provider: string; providerCallId: string }): Promise<Call | null> {
    return this.commands.findCall(ref);
  }

  setProviderCallId(callId: string, providerCallId: string): Promise<void> {
    return this.commands.setProviderCallId(callId, providerCallId);
  }

  /**
   * The safety net for lost callbacks: a command its provider never confirmed FAILS after
   * `commandTimeoutMs`, and a live call that never got past INITIATED or RINGING within
   * `setupTimeoutMs` ends FAILED ("provider_timeout"), so nothing waits forever on a webhook
   * that was lost. Answered calls are left alone: a conversation may last hours.
   */
  /**
   * `hangUp` ends a stuck call at its provider first (best effort: the provider may have lost it
   * too), so that a call we report FAILED is not left ringing somewhere.
   */
  async sweep(options: { commandTimeoutMs: number; setupTimeoutMs: number }, hangUp: (call: Call) => Promise<void> = async () => {}): Promise<void> {
    for (const id of await this.commands.overdueCommands(options.commandTimeoutMs, 100)) {
      await this.commandFailed(id, `The provider did not confirm the command within ${duration(options.commandTimeoutMs)}`);
    }
    for (const { id } of await this.commands.staleLiveCalls([CallStatus.INITIATED, CallStatus.RINGING], options.setupTimeoutMs, 100)) {
      // Ended here first: the transition applies once, so of two sweeps that found the call (two
      // processes, or a run that outlasted its interval) only the one that ended it hangs it up at
      // its provider (best effort: a provider that refuses does not keep the call alive here).
      const ended = await this.apply({ callId: id, status: CallStatus.FAILED, endReason: EndReason.PROVIDER_TIMEOUT });
      if (ended) await hangUp(ended.call);
    }
  }

  /** Rank of a status in the forward order (for tests and providers). */
  static rank(status: CallStatus): number {
    return RANK[status];
  }
}

function duration(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** The flag a confirmed command sets; null for status-changing commands. */
function effectOf(args: CommandArgs, call: Call, providerRef: string | null): CallEffect | null {
  switch (args.type) {
    case CallCommandType.HOLD:
      return { type: CallEventKind.HELD };
    case CallCommandType.UNHOLD:
      return { type: CallEventKind.UNHELD };
    case CallCommandType.MUTE:
      return { type: CallEventKind.MUTED, leg: args.leg };
    case CallCommandType.UNMUTE:
      return { type: CallEventKind.UNMUTED, leg: args.leg };
    case CallCommandType.TRANSFER:
      return { type: CallEventKind.TRANSFERRED, to: args.to, toChannel: args.toChannel };
    case CallCommandType.START_RECORDING:
      return {
        type: CallEventKind.RECORDING_STARTED,
        recordingId: newRecordingId(),
        format: recordingFormatFor(args, call),
        providerRef,
        kind: RecordingKind.CALL,
      };
    case CallCommandType.STOP_RECORDING:
      return { type: CallEventKind.RECORDING_STOPPED };
    case CallCommandType.SEND_DTMF:
      return { type: CallEventKind.DTMF_SENT, digits: args.digits };
    default:
      return null;
  }
}
