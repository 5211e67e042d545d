/**
 * Runs queued work at most `concurrency` at a time, taking turns between keys (round robin): one
 * key with ten thousand items waiting delays another key's next item by at most one turn, not by
 * ten thousand. Items of one key run in the order they were queued.
 *
 * Written here because the queues on npm that cap concurrency (p-queue, p-limit) serve in arrival
 * order, and bottleneck's groups give each key its own limiter, not one shared cap with turns.
 */
export class FairQueue {
  /** Keys with work waiting, in turn order (a Map iterates in insertion order). */
  private readonly waiting = new Map<string, { items: (() => Promise<void>)[]; head: number }>();
  private running = 0;
  /** Items queued and not yet started, over every key. */
  private queued = 0;
  /** The most items that ran at once (for tests and the bench). */
  maxRunning = 0;

  constructor(
    private readonly concurrency: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  get size(): number {
    return this.queued;
  }

  push(key: string, work: () => Promise<void>): void {
    let queue = this.waiting.get(key);
    if (!queue) this.waiting.set(key, (queue = { items: [], head: 0 }));
    queue.items.push(work);
    this.queued++;
    this.drain();
  }

  /** Drops every item not yet started. */
  clear(): void {
    this.waiting.clear();
    this.queued = 0;
  }

  private drain(): void {
    while (this.running < this.concurrency && this.waiting.size > 0) {
      const [key, queue] = this.waiting.entries().next().value!;
      const work = queue.items[queue.head]!;
      queue.items[queue.head++] = undefined!;
      // This key's turn is over: to the back of the line if it has more, else out of it.
      this.waiting.delete(key);
      if (queue.head < queue.items.length) {
        if (queue.head > 1_024 && queue.head * 2 > queue.items.length) {
          queue.items = queue.items.slice(queue.head);
          queue.head = 0;
        }
        this.waiting.set(key, queue);
      }
      this.queued--;
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      let result: Promise<void>;
      try {
        result = work();
      } catch (error) {
        result = Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      void result.catch(this.onError).finally(() => {
        this.running--;
        this.drain();
      });
    }
  }
}
