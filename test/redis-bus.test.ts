import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisEventBus } from '../src/events/redis-event-bus.js';
import { EVENTS_CHANNEL } from '../src/events/event-bus.js';
import { redisUrl } from './helpers/gateway.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

describe('the Redis event bus', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  it('subscribes again after a lost connection: a position published then reaches its listeners', async () => {
    const bus = new RedisEventBus(redisUrl(), quiet);
    const other = new Redis(redisUrl());
    try {
      await bus.start();
      const heard: (string | null)[] = [];
      bus.subscribe((position) => heard.push(position));
      await bus.simulateConnectionLoss();
      await expect.poll(() => heard.includes(null), { timeout: 5_000 }).toBe(true);
      // Published until heard: the bus's SUBSCRIBE may still be on its way right after 'ready'.
      await expect
        .poll(
          async () => {
            await other.publish(EVENTS_CHANNEL, JSON.stringify('42'));
            return heard.includes('42');
          },
          { timeout: 5_000, interval: 100 },
        )
        .toBe(true);
    } finally {
      other.disconnect();
      await bus.close();
    }
  });

  it('closed just as it is ready again after a lost connection, it leaves no promise rejected unhandled', async () => {
    process.on('unhandledRejection', onRejection);
    // The case CI met once in test/multi-process.test.ts (ioredis's own resubscribe, rejected by
    // the close); not reproduced on demand here, so this runs the closest sequence ten times.
    for (let i = 0; i < 10; i++) {
      const bus = new RedisEventBus(redisUrl(), quiet);
      await bus.start();
      const closed = new Promise<void>((resolve) =>
        bus.subscribe((position) => {
          if (position === null) void bus.close().then(resolve);
        }),
      );
      await bus.simulateConnectionLoss();
      await closed;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rejections.map(String)).toEqual([]);
  });
});
