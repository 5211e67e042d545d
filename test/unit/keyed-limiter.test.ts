import { describe, expect, it } from 'vitest';
import { KeyedLimiter } from '../../src/shared/keyed-limiter.js';

class Full extends Error {}

/** A task that runs until released, recording how many of its key ran at once. */
function gate() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { release, done };
}

describe('KeyedLimiter', () => {
  it('runs at most `concurrency` tasks of a key at once, in order; other keys are not held up; past `maxWaiting` it refuses at once', async () => {
    const limiter = new KeyedLimiter(2, 3, () => new Full());
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const results = gates.map((g, i) =>
      limiter.run('a', async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await g.done;
        running--;
        return i;
      }),
    );
    // 2 run, 3 wait: a sixth is refused without waiting.
    await expect(limiter.run('a', async () => 'never')).rejects.toBeInstanceOf(Full);
    // Another key runs at once.
    expect(await limiter.run('b', async () => 'b')).toBe('b');
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    for (const g of gates) g.release();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(limiter.keys).toBe(0);
  });

  it('a task that throws gives its place to the next, and an idle key is forgotten', async () => {
    const limiter = new KeyedLimiter(1, 10, () => new Full());
    const first = limiter.run('a', async () => {
      throw new Error('boom');
    });
    const second = limiter.run('a', async () => 'ran');
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe('ran');
    expect(limiter.keys).toBe(0);
  });

  it('with maxWaiting 0, a busy key refuses every task beyond its concurrency', async () => {
    const limiter = new KeyedLimiter(1, 0, () => new Full());
    const g = gate();
    const first = limiter.run('a', () => g.done);
    await expect(limiter.run('a', async () => 1)).rejects.toBeInstanceOf(Full);
    g.release();
    await first;
    expect(await limiter.run('a', async () => 2)).toBe(2);
  });
});
