/**
 * At most `concurrency` tasks of one key run at once; up to `maxWaiting` more wait their turn in
 * order, and past that `run` refuses at once (with `full()`'s error). A key with nothing running
 * or waiting is forgotten, so memory is bounded by the keys in use and their queues.
 *
 * Written here rather than taken from a library: p-limit and p-queue limit one queue, and keying
 * them by tenant would need this same bookkeeping (create on first use, drop when idle) around them.
 */
export class KeyedLimiter {
  private readonly slots = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
    private readonly full: () => Error,
  ) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { running: 0, waiting: [] };
      this.slots.set(key, slot);
    }
    if (slot.running < this.concurrency) slot.running++;
    else if (slot.waiting.length >= this.maxWaiting) throw this.full();
    // A finishing task hands its place to the first waiting one (running stays the same).
    else await new Promise<void>((resolve) => slot.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = slot.waiting.shift();
      if (next) next();
      else if (--slot.running === 0) this.slots.delete(key);
    }
  }

  /** Keys with a task running or waiting (for tests and metrics). */
  get keys(): number {
    return this.slots.size;
  }
}
