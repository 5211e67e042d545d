/**
 * The fan-out benchmark's subscriber harness (a child of dist/bench/fanout.js): raw `ws` sockets
 * speaking graphql-transport-ws, each `connection_init` with the key, then one `subscribe` with
 * its own id (a UUID, as the graphql-ws client sends) and the same document and variables.
 *
 * While armed, each socket's next message is stamped with the wall clock on arrival, before
 * anything else is done with it; parsing and checking happen after the fan-out, in `collect`.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { serveRequests, subscriptionVariant, type ClientRequest, type CollectResult } from './fanout-shared.js';
import { runWorkers, wallNow } from './helpers.js';

interface Subscriber {
  socket: WebSocket;
  id: string;
  subscribed: boolean;
  /** Receive time of the armed trial's message, NaN until it arrives. */
  at: number;
  data: Buffer | null;
  /** Messages received while not armed, or after the armed one. */
  extra: number;
}

const subscribers: Subscriber[] = [];
let armed = false;
let received = 0;
let onAllReceived: (() => void) | null = null;
let closedUnexpectedly = 0;

function open(url: string, authorization: string, subscription: { query: string; variables: Record<string, unknown> }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    const subscriber: Subscriber = { socket, id: randomUUID(), subscribed: false, at: Number.NaN, data: null, extra: 0 };
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
    socket.on('message', (data: Buffer) => {
      // The timestamp first: everything else is measured as the harness's own cost.
      const at = wallNow();
      if (subscriber.subscribed) {
        if (armed && subscriber.data === null) {
          subscriber.at = at;
          subscriber.data = data;
          if (++received === subscribers.length) onAllReceived?.();
        } else {
          subscriber.extra++;
        }
        return;
      }
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type !== 'connection_ack') return fail(new Error(`expected connection_ack, got ${String(data).slice(0, 200)}`));
      socket.send(JSON.stringify({ id: subscriber.id, type: 'subscribe', payload: subscription }));
      subscriber.subscribed = true;
      subscribers.push(subscriber);
      settled = true;
      resolve();
    });
    socket.on('error', (error) => fail(error));
    socket.on('close', (code, reason) => {
      if (!settled) fail(new Error(`closed before subscribing: ${code} ${String(reason)}`));
      else if (subscriber.subscribed && !resetting) closedUnexpectedly++;
    });
  });
}

async function connect(url: string, count: number, authorization: string, concurrency: number, mix: number): Promise<{ ms: number; total: number }> {
  const started = performance.now();
  await runWorkers(count, concurrency, (job) => open(url, authorization, subscriptionVariant(job % mix, mix)));
  return { ms: performance.now() - started, total: subscribers.length };
}

function arm(): void {
  for (const subscriber of subscribers) {
    subscriber.at = Number.NaN;
    subscriber.data = null;
  }
  received = 0;
  armed = true;
}

async function collect(timeoutMs: number, callId: string): Promise<CollectResult> {
  if (received < subscribers.length) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      onAllReceived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    onAllReceived = null;
  }
  armed = false;
  const result: CollectResult = { received: [], missing: 0, invalid: 0, sample: null, bytes: 0 };
  for (const subscriber of subscribers) {
    if (subscriber.data === null) {
      result.missing++;
      continue;
    }
    result.received.push(subscriber.at);
    const text = subscriber.data.toString('utf8');
    if (result.sample === null) {
      result.sample = text;
      result.bytes = subscriber.data.length;
    }
    try {
      const message = JSON.parse(text) as { type?: string; payload?: { data?: { callStatus?: { call?: { id?: string } } }; errors?: unknown } };
      if (message.type !== 'next' || message.payload?.errors || message.payload?.data?.callStatus?.call?.id !== callId) result.invalid++;
    } catch {
      result.invalid++;
    }
    subscriber.data = null;
  }
  return result;
}

let resetting = false;
async function reset(): Promise<{ extra: number; closedUnexpectedly: number }> {
  resetting = true;
  const extra = subscribers.reduce((sum, subscriber) => sum + subscriber.extra, 0);
  const closing = subscribers.map(
    (subscriber) =>
      new Promise<void>((resolve) => {
        if (subscriber.socket.readyState === WebSocket.CLOSED) return resolve();
        subscriber.socket.once('close', () => resolve());
        subscriber.socket.terminate();
      }),
  );
  await Promise.all(closing);
  subscribers.length = 0;
  const report = { extra, closedUnexpectedly };
  closedUnexpectedly = 0;
  resetting = false;
  return report;
}

serveRequests<ClientRequest>(async (request) => {
  switch (request.type) {
    case 'connect':
      return connect(request.url, request.count, request.authorization, request.concurrency, request.mix);
    case 'arm':
      arm();
      return subscribers.length;
    case 'collect':
      return collect(request.timeoutMs, request.callId);
    case 'reset':
      return reset();
    case 'stop':
      await reset();
      setImmediate(() => process.exit(0));
      return null;
  }
});
process.send!({ type: 'ready' });
