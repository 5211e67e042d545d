import { Redis } from 'ioredis';
import type { Logger } from '../domain/logger.js';
import { EVENTS_CHANNEL, type EventBus } from './event-bus.js';

/**
 * Redis pub/sub with ioredis, for deployments that already run Redis or want announcements off
 * the database. ioredis reconnects (and resubscribes) by itself; after a reconnect the listeners
 * catch up from the log (null). Written on ioredis directly rather than through
 * @graphql-yoga/redis-event-target, which leaves the promises of `subscribe` and `publish`
 * unhandled: with Redis down, closing the bus (or a failed publish) raised an unhandled
 * rejection, which ends a Node process. Messages are JSON strings, as that package wrote them.
 */
export class RedisEventBus implements EventBus {
  readonly name = 'redis';
  readonly notifyChannel = null;
  private readonly publishClient: Redis;
  private readonly subscribeClient: Redis;
  private readonly listeners: ((position: string | null) => void)[] = [];
  private ready = false;

  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    const options = { maxRetriesPerRequest: null, lazyConnect: false } as const;
    this.publishClient = new Redis(url, options);
    // Subscribed by the bus on every 'ready' (below), not by ioredis after a reconnect: ioredis
    // drops the promise of its own resubscribe, which rejected unhandled ("Connection is closed")
    // when the bus was closed before Redis answered it (CI, test/multi-process.test.ts).
    this.subscribeClient = new Redis(url, { ...options, autoResubscribe: false });
    for (const client of [this.publishClient, this.subscribeClient]) {
      client.on('error', (error: Error) => this.logger.warn('redis error', { bus: this.name, error: error.message }));
    }
    this.subscribeClient.on('ready', () => {
      this.subscribeClient
        .subscribe(EVENTS_CHANNEL)
        .catch((error: Error) => this.logger.warn('redis subscribe failed; ioredis retries on reconnect', { bus: this.name, error: error.message }));
      // The first 'ready' is the initial connection; later ones follow a reconnect.
      if (this.ready) {
        this.logger.info('event bus reconnected', { bus: this.name });
        for (const listener of this.listeners) listener(null);
      }
      this.ready = true;
    });
    this.subscribeClient.on('message', (channel: string, message: string) => {
      if (channel !== EVENTS_CHANNEL) return;
      let position: string;
      try {
        position = String(JSON.parse(message));
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(position);
    });
  }

  /**
   * Waits up to `waitMs` for Redis. The bus is optional: without it, every process still learns
   * of new events through the log's poll (EVENT_POLL_MS), so a Redis that is down at start is
   * logged and the gateway starts, degraded; ioredis keeps reconnecting.
   */
  async start(waitMs = 2_000): Promise<void> {
    const connected = Promise.all(
      [this.publishClient, this.subscribeClient].map(
        (client) =>
          new Promise<void>((resolve) => {
            if (client.status === 'ready') return resolve();
            client.once('ready', () => resolve());
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), waitMs)));
    if ((await Promise.race([connected, late])) === 'late')
      this.logger.warn('event bus not reachable at start; events reach this process through the log poll until it is', { bus: this.name });
    clearTimeout(timer);
  }

  async publish(position: string): Promise<void> {
    // While Redis is down nothing is queued (the queue would grow for the whole outage): other
    // processes learn of the event through the log's poll.
    if (this.publishClient.status !== 'ready') return;
    // Not awaited, as before: the log's numbering loop does not wait for Redis.
    void this.publishClient
      .publish(EVENTS_CHANNEL, JSON.stringify(position))
      .catch((error: Error) =>
        this.logger.warn('redis publish failed; other processes learn of the event through the log poll', { bus: this.name, error: error.message }),
      );
  }

  subscribe(listener: (position: string | null) => void): void {
    this.listeners.push(listener);
  }

  /** For tests: drop the subscriber connection as a network failure would. */
  async ping(): Promise<void> {
    if (this.publishClient.status !== 'ready' || this.subscribeClient.status !== 'ready') throw new Error('Redis is not connected');
    await this.publishClient.ping();
  }

  async simulateConnectionLoss(): Promise<void> {
    this.subscribeClient.disconnect(true);
  }

  async close(): Promise<void> {
    this.publishClient.disconnect();
    this.subscribeClient.disconnect();
  }
}
