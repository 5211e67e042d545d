import { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Logger } from '../server/logger.js';
import { EVENTS_CHANNEL, type EventBus } from './event-bus.js';

/**
 * Redis pub/sub through @graphql-yoga/redis-event-target, for deployments that already run
 * Redis or want announcements off the database. ioredis reconnects by itself; after a
 * reconnect the listeners catch up from the log (null).
 */
export class RedisEventBus implements EventBus {
  readonly name = 'redis';
  readonly notifyChannel = null;
  private readonly publishClient: Redis;
  private readonly subscribeClient: Redis;
  private readonly target: ReturnType<typeof createRedisEventTarget<CustomEvent<string>>>;
  private readonly listeners: ((position: string | null) => void)[] = [];
  private ready = false;

  constructor(url: string, private readonly logger: Logger) {
    const options = { maxRetriesPerRequest: null, lazyConnect: false } as const;
    this.publishClient = new Redis(url, options);
    this.subscribeClient = new Redis(url, options);
    for (const client of [this.publishClient, this.subscribeClient]) {
      client.on('error', (error: Error) => this.logger.warn('redis error', { bus: this.name, error: error.message }));
    }
    this.subscribeClient.on('ready', () => {
      // The first 'ready' is the initial connection; later ones follow a reconnect.
      if (this.ready) {
        this.logger.info('event bus reconnected', { bus: this.name });
        for (const listener of this.listeners) listener(null);
      }
      this.ready = true;
    });
    this.target = createRedisEventTarget<CustomEvent<string>>({ publishClient: this.publishClient, subscribeClient: this.subscribeClient });
    this.target.addEventListener(EVENTS_CHANNEL, (event) => {
      for (const listener of this.listeners) listener(String((event as CustomEvent<string>).detail));
    });
  }

  async start(): Promise<void> {
    await Promise.all(
      [this.publishClient, this.subscribeClient].map(
        (client) => new Promise<void>((resolve, reject) => {
          if (client.status === 'ready') return resolve();
          client.once('ready', () => resolve());
          client.once('end', () => reject(new Error('redis connection ended')));
        }),
      ),
    );
  }

  async publish(position: string): Promise<void> {
    this.target.dispatchEvent(new CustomEvent(EVENTS_CHANNEL, { detail: position }));
  }

  subscribe(listener: (position: string | null) => void): void {
    this.listeners.push(listener);
  }

  /** For tests: drop the subscriber connection as a network failure would. */
  async ping(): Promise<void> {
    await Promise.all([this.publishClient.ping(), this.ready ? Promise.resolve() : Promise.reject(new Error('the Redis subscription is down'))]);
  }

  async simulateConnectionLoss(): Promise<void> {
    this.subscribeClient.disconnect(true);
  }

  async close(): Promise<void> {
    this.publishClient.disconnect();
    this.subscribeClient.disconnect();
  }
}
