import pg from 'pg';
import type { Logger } from '../domain/logger.js';
import { EVENTS_CHANNEL, type EventBus } from '../events/event-bus.js';

/**
 * PostgreSQL LISTEN/NOTIFY: no extra component, and every gateway on the same database hears
 * every announcement. One dedicated connection listens; when it drops, it reconnects with
 * backoff and tells listeners to catch up (null).
 */
export class PgEventBus implements EventBus {
  readonly name = 'postgres';
  readonly notifyChannel = EVENTS_CHANNEL;
  private client: pg.Client | null = null;
  private readonly listeners: ((position: string | null) => void)[] = [];
  private closed = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly publisher: { query(text: string, values: unknown[]): Promise<unknown> },
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async publish(position: string): Promise<void> {
    await this.publisher.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, position]);
  }

  subscribe(listener: (position: string | null) => void): void {
    this.listeners.push(listener);
  }

  private emit(position: string | null): void {
    for (const listener of this.listeners) listener(position);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true });
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (this.closed) return;
      this.logger.warn('event bus connection lost; reconnecting', { bus: this.name, error: error?.message });
      this.timer = setTimeout(() => void this.reconnect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5_000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL) this.emit(message.payload ?? null);
    });
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.client = client;
    this.retryMs = 100;
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connect();
      this.logger.info('event bus reconnected', { bus: this.name });
      this.emit(null);
    } catch (error) {
      this.logger.warn('event bus reconnect failed', { bus: this.name, error: (error as Error).message });
      this.timer = setTimeout(() => void this.reconnect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5_000);
    }
  }

  /** For tests: drop the listening connection as a network failure would. */
  async ping(): Promise<void> {
    if (!this.client) throw new Error('the LISTEN connection is down');
    await this.client.query('SELECT 1');
  }

  async simulateConnectionLoss(): Promise<void> {
    const client = this.client;
    if (client) client.emit('error', new Error('simulated connection loss'));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
