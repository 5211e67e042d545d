import type { Logger } from '../domain/logger.js';

/**
 * What a started gateway must stop, in reverse order of starting. Each builder of app.ts adds
 * the parts it started as it starts them, so a start that fails half-way (a port in use) stops
 * exactly what had started: the event bus, the workers and their timers do not outlive it.
 */
export class Shutdown {
  private readonly parts: { name: string; stop: () => Promise<void> | void }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  add(name: string, stop: () => Promise<void> | void): void {
    this.parts.push({ name, stop });
  }

  /** Stops every part added, last first; a part that fails to stop is logged, the rest still stop. Runs once. */
  run(): Promise<void> {
    this.running ??= this.stopAll();
    return this.running;
  }

  private async stopAll(): Promise<void> {
    for (const { name, stop } of this.parts.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        this.logger.error('stopping a part of the gateway failed', { part: name, error: (error as Error).message });
      }
    }
  }
}
