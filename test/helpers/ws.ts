import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';

/** Opens a raw graphql-transport-ws socket, sends connection_init, resolves with how it ended. */
export function connectRaw(
  wsUrl: string,
  connectionParams: unknown,
  options: WebSocket.ClientOptions = {},
): Promise<{ acked: boolean; closeCode: number | null; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', options);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve({ acked: true, closeCode: null, socket });
    });
    socket.once('close', (code) => resolve({ acked: false, closeCode: code, socket }));
  });
}

/** A graphql-ws client authenticated with `key`. */
export function wsClient(wsUrl: string, key: string, options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: true, ...options });
}

/** Runs one operation over the client and returns its single result. */
export function wsRequest<T = any>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  return new Promise((resolve, reject) => {
    let result: any;
    client.subscribe(
      { query, variables },
      {
        next: (value) => (result = value),
        error: reject,
        complete: () => resolve(result),
      },
    );
  });
}

export interface Collected<T> {
  items: T[];
  errors: unknown[];
  /** Resolves once `predicate(items)` holds; rejects after `timeoutMs` with what was collected. */
  until(predicate: (items: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  stop(): void;
}

/** Subscribes and collects every `data[field]` it receives. */
export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown>, field = 'callStatus'): Collected<T> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((check) => check());
  const stop = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data?.[field]) items.push(result.data[field]);
        notify();
      },
      error: (error) => {
        errors.push(error);
        notify();
      },
      complete: notify,
    },
  );
  return {
    items,
    errors,
    stop,
    until(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(items)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(items);
          } else if (errors.length) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`subscription failed: ${JSON.stringify(errors)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms with ${items.length} items: ${JSON.stringify(items.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** The selection the tests subscribe with. */
export const CALL_STATUS = `subscription($callId: ID, $filter: CallFilter, $after: String) {
  callStatus(callId: $callId, filter: $filter, after: $after) {
    id sequence cursor status previousStatus occurredAt
    call { id status appId answeredAt startedAt endedAt duration endReason toAddress }
  }
}`;
