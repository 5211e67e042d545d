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
