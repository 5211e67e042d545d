import { TERMINAL } from '../../domain/call-status-rules.js';
import { CallStatus, type Call } from '../../domain/call.js';
import type { ParkedState } from '../../domain/call-store.js';
import type { ProviderCallbacks } from '../../domain/call-lifecycle.js';
import { CallCommandType, recordingFormatFor, type CallCommand, type CommandArgs, type Recording } from '../../domain/command-rules.js';
import type { Logger } from '../../domain/logger.js';
import type { ChannelProvider, CommandResult, PlaceCallResult } from '../../domain/channel-provider.js';
import { PeriodicRunner } from '../../shared/runners.js';
import { FairQueue } from './fair-queue.js';
import { PARKED, nextStep } from './scenarios.js';

export interface SimulatorOptions {
  /** Scales every delay: 0.01 runs a lifecycle 100× faster (SIMULATOR_TIME_SCALE). */
  timeScale: number;
  /** How often to look for simulated calls that no process is driving (after a crash). */
  sweepMs: number;
  /**
   * Simulated provider callbacks (transitions, command confirmations, saved recordings) running at
   * once in this process, each a write through the gateway's pool (SIMULATOR_MAX_IN_FLIGHT).
   */
  maxInFlight: number;
}

/** What the simulator needs from storage: the calls it should be driving. */
export interface UnfinishedCalls {
  unfinishedCalls(
    mode: 'test',
    limit: number,
    options: { parked: readonly ParkedState[]; perApplication: number },
  ): Promise<{ call: Call; lastEventAt: Date }[]>;
}

/** A provider answers a command in about this long (at scale 1; never slower, so tests that freeze calls still see commands apply). */
const COMMAND_DELAY_MS = 250;
/** Storing a stopped recording takes about this long. */
const RECORDING_SAVE_MS = 1_000;

/**
 * Serves every test-mode call, on any channel pair: drives it through the scenario of its
 * destination (scenarios.ts) by feeding status updates to the lifecycle entry point, exactly
 * as a real provider's callbacks do, and carries out every command the same way: accepted at
 * once, confirmed a moment later.
 *
 * State lives in the database, not in the timers: the next step is always derived from the
 * call's current status and the time of its last transition. So a restarted gateway resumes
 * pending calls, and a sweep picks up calls whose process died. Two processes driving the same
 * call are harmless: the lifecycle applies each transition once.
 */
export class SimulatorProvider implements ChannelProvider {
  readonly name = 'simulator';
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly background = new Set<NodeJS.Timeout>();
  private sweeper: PeriodicRunner | undefined;
  private stopped = false;
  /**
   * Every callback that is due waits here for its turn: at most `maxInFlight` run at once, and
   * applications take turns. Without it, one tenant's burst of test calls came due all at once
   * later (a thousand transitions in the same second, each an UPDATE and an INSERT) and queued
   * ahead of every tenant's requests in the pool: the bench saw createCall at a fixed rate fall
   * from 409 to 48 req/s, p99 2.5 s, a hundred seconds after a burst (issue 12). Now a burst
   * makes its own simulated calls run late, and nobody else's requests.
   */
  private readonly queue: FairQueue;

  constructor(
    private readonly callbacks: ProviderCallbacks,
    private readonly calls: UnfinishedCalls,
    private readonly logger: Logger,
    private readonly options: SimulatorOptions,
  ) {
    this.queue = new FairQueue(options.maxInFlight, (error) => {
      if (!this.stopped) this.logger.error('simulated provider callback failed', { error: (error as Error).message });
    });
  }

  /** Callbacks waiting for their turn, and the most that ran at once. */
  get backlog(): { waiting: number; maxInFlight: number } {
    return { waiting: this.queue.size, maxInFlight: this.queue.maxRunning };
  }

  async placeCall(call: Call): Promise<PlaceCallResult> {
    this.schedule(call, call.createdAt);
    return {};
  }

  /** The simulator carries out every command on every channel. */
  unsupported(_args: CommandArgs, _call: Call): string | null {
    return null;
  }

  async execute(call: Call, command: CallCommand): Promise<CommandResult> {
    this.later(call.appId, COMMAND_DELAY_MS * Math.min(1, this.options.timeScale), async () => {
      await this.callbacks.commandConfirmed(command.id, null);
      if (command.args.type === CallCommandType.SEND_TO_VOICEMAIL) {
        // As on a live call: greeting, beep, then the caller's message is recorded (a VOICEMAIL
        // recording, saved when the call ends).
        const inVoicemail = await this.callbacks.findCall({ callId: call.id });
        if (inVoicemail?.status === CallStatus.VOICEMAIL) {
          await this.callbacks.voicemailRecordingStarted({ callId: call.id, format: recordingFormatFor({ format: null }, inVoicemail), providerRef: null });
        }
      }
      const now = await this.callbacks.findCall({ callId: call.id });
      if (!now) return;
      if (command.args.type === CallCommandType.STOP_RECORDING || TERMINAL.has(now.status)) this.saveRecording(now);
      // A command may have moved the call off its scenario (answered, sent to voicemail):
      // continue from where it is now.
      this.reschedule(now);
    });
    return { confirmed: false };
  }

  /** Resume the calls left pending (at start), then keep sweeping for orphans. */
  async start(): Promise<void> {
    await this.resume(0);
    this.sweeper = new PeriodicRunner(() => this.resume(this.graceMs()), this.options.sweepMs).start();
  }

  private graceMs(): number {
    return Math.max(2_000, this.options.sweepMs);
  }

  /** Schedules every unfinished test call that is not scheduled here and is overdue by `graceMs`. */
  private async resume(graceMs: number): Promise<void> {
    try {
      const now = Date.now();
      // Calls parked until a command are not read at all, and no application takes more than its
      // share: one tenant's calls that never end cannot crowd another's out of the sweep.
      for (const { call, lastEventAt } of await this.calls.unfinishedCalls('test', 10_000, { parked: PARKED, perApplication: 1_000 })) {
        if (this.timers.has(call.id)) continue;
        const step = nextStep(call);
        if (!step) continue;
        const due = lastEventAt.getTime() + step.afterMs * this.options.timeScale;
        if (now - due >= graceMs) this.schedule(call, lastEventAt);
      }
    } catch (error) {
      if (!this.stopped) this.logger.error('simulator resume failed', { error: (error as Error).message });
    }
  }

  private reschedule(call: Call): void {
    clearTimeout(this.timers.get(call.id));
    this.timers.delete(call.id);
    this.schedule(call, new Date());
  }

  private schedule(call: Call, since: Date): void {
    if (this.stopped) return;
    const step = nextStep(call);
    if (!step) return;
    const delay = Math.max(0, since.getTime() + step.afterMs * this.options.timeScale - Date.now());
    // The wait keeps only what the step needs, not the whole call (its metadata, options, dates):
    // there is one wait per unfinished test call, and the bench's sustained run saw the heap grow
    // by 1.18 KB per call created with the call held, 0.43 KB without it.
    const { id: callId, appId, recordingId } = call;
    const transition = async () => {
      // Rescheduled while it waited (a command moved the call): that newer step replaces this one.
      if (this.stopped || this.timers.get(callId) !== timer) return;
      try {
        if (step.answeredBy) await this.callbacks.machineDetected(callId, step.answeredBy);
        const applied = await this.callbacks.apply({
          callId,
          status: step.status,
          endReason: step.endReason ?? null,
          hangupSource: step.hangupSource ?? null,
          sipCode: step.sipCode ?? null,
        });
        if (!applied) return;
        if (TERMINAL.has(applied.call.status) && recordingId !== null) this.saveRecording({ id: callId, appId });
        // Continue from what the database holds now.
        this.schedule(applied.call, applied.event.occurredAt);
      } catch (error) {
        if (!this.stopped) this.logger.error('simulated transition failed; the sweep will retry', { callId, error: (error as Error).message });
      } finally {
        if (this.timers.get(callId) === timer) this.timers.delete(callId);
      }
    };
    // The call stays in `timers` while it waits for its turn, so a sweep does not schedule it twice.
    const timer = setTimeout(() => this.queue.push(appId, transition), delay);
    this.timers.set(callId, timer);
  }

  /** A stopped (or interrupted) recording is "stored" a moment later. No audio exists in test mode. */
  private saveRecording({ id: callId, appId }: Pick<Call, 'id' | 'appId'>): void {
    this.later(appId, RECORDING_SAVE_MS * this.options.timeScale, () =>
      this.callbacks.recordingSaved({
        callId,
        providerRef: null,
        url: (recording: Recording) => `https://recordings.simulator.invalid/${callId}/${recording.id}.${recording.format}`,
        duration: null,
      }),
    );
  }

  /** `work` for `appId`, `ms` from now, when its turn comes. */
  private later(appId: string, ms: number, work: () => Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.background.delete(timer);
      this.queue.push(appId, async () => {
        if (!this.stopped) await work();
      });
    }, ms);
    this.background.add(timer);
  }

  /** Number of calls this process is driving now. */
  get pending(): number {
    return this.timers.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.sweeper?.stop();
    for (const timer of [...this.timers.values(), ...this.background]) clearTimeout(timer);
    this.timers.clear();
    this.background.clear();
    this.queue.clear();
  }
}
