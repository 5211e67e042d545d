/**
 * Runs `task` on request, one run at a time; requests made during a run are folded into one
 * more run after it, so a burst of writes costs a couple of runs, not one per write.
 */
export class CoalescingRunner {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly delayMs = 0,
  ) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    const start = this.delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, this.delayMs)).then(this.task) : this.task();
    this.running = start.finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.request();
      }
    });
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
