import type { Call } from '../../domain/call.js';
import type { CallLifecycle } from '../../domain/call-lifecycle.js';
import type { Logger } from '../../server/logger.js';
import type { ChannelProvider } from '../channel-provider.js';
import { nextStep } from './scenarios.js';

export interface SimulatorOptions {
  /** Scales every delay: 0.01 runs a lifecycle 100× faster (SIMULATOR_TIME_SCALE). */
  timeScale: number;
  /** How often to look for simulated calls that no process is driving (after a crash). */
  sweepMs: number;
}

/** What the simulator needs from storage: the calls it should be driving. */
export interface UnfinishedCalls {
  unfinishedCalls(mode: 'test', limit: number): Promise<{ call: Call; lastEventAt: Date }[]>;
}

/**
 * Serves every test-mode call, on any channel pair: drives it through the scenario of its
 * destination (scenarios.ts) by feeding status updates to the lifecycle entry point, exactly
 * as a real provider's callbacks do.
 *
 * State lives in the database, not in the timers: the next step is always derived from the
 * call's current status and the time of its last transition. So a restarted gateway resumes
 * pending calls, and a sweep picks up calls whose process died. Two processes driving the same
 * call are harmless: the lifecycle applies each transition once.
 */
export class SimulatorProvider implements ChannelProvider {
  readonly name = 'simulator';
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly lifecycle: CallLifecycle,
    private readonly calls: UnfinishedCalls,
    private readonly logger: Logger,
    private readonly options: SimulatorOptions,
  ) {}

  async placeCall(call: Call): Promise<void> {
    this.schedule(call, call.createdAt);
  }

  /** Resume the calls left pending (at start), then keep sweeping for orphans. */
  async start(): Promise<void> {
    await this.resume(0);
    this.sweeper = setInterval(() => void this.resume(this.graceMs()), this.options.sweepMs);
    this.sweeper.unref();
  }

  private graceMs(): number {
    return Math.max(2_000, this.options.sweepMs);
  }

  /** Schedules every unfinished test call that is not scheduled here and is overdue by `graceMs`. */
  private async resume(graceMs: number): Promise<void> {
    try {
      const now = Date.now();
      for (const { call, lastEventAt } of await this.calls.unfinishedCalls('test', 10_000)) {
        if (this.timers.has(call.id)) continue;
        const step = nextStep(call.toAddress, call.status);
        if (!step) continue;
        const due = lastEventAt.getTime() + step.afterMs * this.options.timeScale;
        if (now - due >= graceMs) this.schedule(call, lastEventAt);
      }
    } catch (error) {
      if (!this.stopped) this.logger.error('simulator resume failed', { error: (error as Error).message });
    }
  }

  private schedule(call: Call, since: Date): void {
    if (this.stopped) return;
    const step = nextStep(call.toAddress, call.status);
    if (!step) return;
    const delay = Math.max(0, since.getTime() + step.afterMs * this.options.timeScale - Date.now());
    const timer = setTimeout(async () => {
      this.timers.delete(call.id);
      try {
        const applied = await this.lifecycle.apply({ callId: call.id, status: step.status, endReason: step.endReason ?? null });
        // Continue from what the database holds now (a command may have moved the call on).
        if (applied) this.schedule(applied.call, applied.event.occurredAt);
      } catch (error) {
        if (!this.stopped) this.logger.error('simulated transition failed; the sweep will retry', { callId: call.id, error: (error as Error).message });
      }
    }, delay);
    this.timers.set(call.id, timer);
  }

  /** Number of calls this process is driving now. */
  get pending(): number {
    return this.timers.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
