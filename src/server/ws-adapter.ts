import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { Logger } from '../domain/logger.js';

/**
 * graphql-ws's transport-free core (`makeServer`) on a `ws` server: what graphql-ws's own
 * `use/ws` adapter does (sub-protocol negotiation, one `opened` per socket, `closed` on close,
 * keep-alive pings), written here for two differences:
 * - a socket error (a frame over `maxPayload`, a malformed frame: `ws` then closes the socket
 *   with 1009 or 1002) is one warn line in the structured log with its code; `use/ws` wrote a
 *   `console.error` with a stack trace per socket, which any client could trigger at will;
 * - one keep-alive timer pings every socket (a socket that did not answer the previous ping is
 *   terminated), instead of an interval, a timeout and their closures per socket: less memory per
 *   idle subscriber.
 */
export function serveGraphQLWs<P extends Record<string, unknown> | undefined, E extends { socket: WebSocket; request: IncomingMessage }>(
  options: ServerOptions<P, E>,
  wss: WebSocketServer,
  logger: Logger,
  keepAliveMs = 12_000,
): { dispose(): void } {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', (error) => logger.error('WebSocket server error', { error: error.message }));

  const sockets = new Set<WebSocket>();
  const awaitingPong = new Set<WebSocket>();
  const keepAlive = setInterval(() => {
    for (const socket of sockets) {
      if (awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      if (socket.readyState !== socket.OPEN) continue;
      awaitingPong.add(socket);
      socket.ping();
    }
  }, keepAliveMs);
  keepAlive.unref();

  wss.on('connection', (socket, request) => {
    sockets.add(socket);
    socket.on('pong', () => awaitingPong.delete(socket));
    // `on`, not `once`: the socket emits each once, and a once wrapper is a few hundred bytes per socket.
    socket.on('error', (error: Error & { code?: string }) => {
      logger.warn('WebSocket closed on a protocol error', { code: error.code ?? 'unknown', error: error.message });
    });
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        // Not an async listener: graphql-ws's handler settles only when a subscription ends, and
        // an async function awaiting it would keep its frame and the message's buffer for as long
        // (≈0.5 KB per idle subscriber, bench/fanout-README.md).
        onMessage: (handle) =>
          socket.on('message', (data) => {
            let handled: Promise<void>;
            try {
              handled = handle(withQueryOfDocumentId(textOf(data)));
            } catch (error) {
              handled = Promise.reject(error instanceof Error ? error : new Error(String(error)));
            }
            handled.catch((error: unknown) => {
              logger.error('WebSocket message handling failed', { error: String((error as Error)?.stack ?? error) });
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request } as E,
    );
    socket.on('close', (code, reason) => {
      sockets.delete(socket);
      awaitingPong.delete(socket);
      void closed(code, String(reason));
    });
  });

  return {
    dispose() {
      clearInterval(keepAlive);
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      wss.removeAllListeners('connection');
    },
  };
}

/**
 * A `subscribe` whose payload names a registered document (`documentId`, server/pipeline.ts
 * source) and has no `query`: graphql-ws requires `query` to be a string, so it gets an empty one
 * (the pipeline reads the document from the id). Only messages that mention documentId are read
 * twice; any other message is handed over as it came.
 */
function withQueryOfDocumentId(text: string): string {
  if (!text.includes('"documentId"')) return text;
  try {
    const message = JSON.parse(text) as { type?: unknown; payload?: Record<string, unknown> | null };
    if (message.type !== 'subscribe' || typeof message.payload !== 'object' || message.payload === null || 'query' in message.payload) return text;
    return JSON.stringify({ ...message, payload: { ...message.payload, query: '' } });
  } catch {
    return text;
  }
}

/** A WebSocket message's text, whatever form ws handed it over in. */
function textOf(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
