import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';

/** Opens a raw graphql-transport-ws socket, sends connection_init, resolves with how it ended. */
export function connectRaw(wsUrl: string, connectionParams: unknown): Promise<{ acked: boolean; closeCode: number | null; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
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
export function wsRequest<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
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
