/**
 * Runs `task` on request, one run at a time; requests made during a run are folded into one
 * more run after it, so a burst of writes costs a couple of runs, not one per write. With
 * `spacingMs`, a run starts no sooner than that after the previous one started: a request after a
 * quiet spell runs at once, and under load the runs come at most 1000 / spacingMs a second, each
 * taking everything requested meanwhile (the event log's sequencer, whose cost is per run).
 */
export class CoalescingRunner {
  private running: Promise<void> | null = null;
  private again = false;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly spacingMs = 0,
  ) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    // performance.now(): monotonic, so a clock set back cannot hold the runs up (and the wait is at most spacingMs).
    const wait = this.spacingMs > 0 ? Math.min(this.spacingMs, this.lastStart + this.spacingMs - performance.now()) : 0;
    const start = wait > 0 ? new Promise<void>((resolve) => setTimeout(resolve, wait)).then(() => this.begin()) : this.begin();
    this.running = start.finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.request();
      }
    });
  }

  private begin(): Promise<void> {
    this.lastStart = performance.now();
    return this.task();
  }

  async settle(): Promise<void> {
    while (this.running) await this.running;
  }
}

/**
 * A background loop: `task` every `intervalMs` (and on request), through one CoalescingRunner, so
 * two runs never overlap however long one takes; a tick during a run makes one more run after it.
 * Every periodic job of the gateway runs on one of these (sweeps, retention, the event log's poll,
 * the simulator's resume, the WebSocket key recheck, webhook delivery).
 */
export class PeriodicRunner {
  private readonly runner: CoalescingRunner;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    task: () => Promise<void>,
    private readonly intervalMs: number,
  ) {
    this.runner = new CoalescingRunner(task);
  }

  /** Starts ticking (the timer does not keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => this.runner.request(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** A run now (or right after the one under way). */
  request(): void {
    this.runner.request();
  }

  /** Stops ticking and waits for the run under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.runner.settle();
  }
}
