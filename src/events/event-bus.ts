/**
 * Tells every gateway process that the event log has grown. It carries only the newest log
 * position (far below NOTIFY's 8,000-byte limit): the log in PostgreSQL stays the one source of
 * events, so a lost message or a reconnect costs a catch-up read, never an event.
 */
export interface EventBus {
  readonly name: string;
  /** Announce that the log now reaches `position`. Call only after the events are committed. */
  publish(position: string): Promise<void>;
  /**
   * A NOTIFY channel the sequencer may announce on inside its own transaction (delivered at
   * commit), instead of a publish() after it; null when the bus is not LISTEN/NOTIFY.
   */
  readonly notifyChannel: string | null;
  /**
   * `position` for each announcement; null after a (re)connect, when announcements may have
   * been missed and the listener should catch up from the log.
   */
  subscribe(listener: (position: string | null) => void): void;
  /** Resolves when the bus's connection answers (readiness); rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const EVENTS_CHANNEL = 'calls_gateway_events';
