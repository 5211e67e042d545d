/**
 * The fan-out benchmark's server child (started by dist/bench/fanout.js, with --expose-gc):
 *
 * - `gateway`: the real gateway (src/server/app.ts startGateway) on the bench database, with the
 *   simulator slowed down (SIMULATOR_TIME_SCALE 100) so that nothing moves calls but the bench.
 *   A trigger applies one transition through `lifecycle.apply()`, as a provider callback does.
 * - `floor`: a bare `ws` server speaking just enough graphql-transport-ws (ack, subscribe); a
 *   trigger serializes one `next` message of the same shape and size ONCE and sends it on every
 *   subscribed socket (`shared`), or serializes the payload once and splices each socket's
 *   subscription id into its frame (`spliced`, the least a correct server must do per socket).
 *
 * Requests come over IPC (see fanout-shared.ts): memory (gc + process.memoryUsage, optionally a
 * heap snapshot), count (registered subscribers), trigger, profile-start/-stop (inspector CPU
 * profile of what runs between them), stop.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { CallStatus, EndReason } from '../src/domain/call.js';
import { encodeEventCursor } from '../src/domain/cursor.js';
import { startGateway, type Gateway } from '../src/server/app.js';
import { jsonLogger } from '../src/server/logger.js';
import { serveRequests, type FloorFrame, type MemorySample, type ServerRequest, type TriggerResult } from './fanout-shared.js';
import { FROM_NUMBER, jsonEnv, processCpu, sleep, TO_STAYS_IN_PROGRESS, wallNow } from './helpers.js';

export interface FanoutServerOptions {
  kind: 'gateway' | 'floor';
  databaseUrl: string;
  appId: string;
  poolSize: number;
}

const options = jsonEnv<FanoutServerOptions>('FANOUT_SERVER', 'dist/bench/fanout.js');

const gc = (globalThis as { gc?: () => void }).gc;

async function settleAndCollect(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    gc();
  }
}

async function memory(snapshot?: string): Promise<MemorySample> {
  await settleAndCollect();
  const usage = process.memoryUsage();
  const spaces: Record<string, number> = {};
  for (const space of v8.getHeapSpaceStatistics()) spaces[space.space_name] = space.space_used_size;
  const sample: MemorySample = {
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    rss: usage.rss,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    spaces,
    mallocedMemory: v8.getHeapStatistics().malloced_memory,
  };
  if (snapshot) v8.writeHeapSnapshot(snapshot);
  return sample;
}

let session: Session | null = null;
async function profileStart(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 100 µs: fine enough for a fan-out of a few hundred ms.
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
async function profileStop(file: string): Promise<void> {
  if (!session) throw new Error('no profile running');
  const { profile } = await session.post('Profiler.stop');
  await writeFile(file, JSON.stringify(profile));
  session.disconnect();
  session = null;
}

interface Server {
  port: number;
  count(): number;
  trigger(callId: string, frame: FloorFrame): Promise<TriggerResult>;
  stop(): Promise<void>;
}

/** Resolves on the next check phase: all the microtasks the fan-out queued have run. */
const afterMicrotasks = () => new Promise<number>((resolve) => setImmediate(() => resolve(wallNow())));

async function startGatewayServer(opts: FanoutServerOptions): Promise<Server> {
  const config = loadConfig(
    {
      SIMULATOR_TIME_SCALE: '100',
      WS_MAX_OPERATIONS_PER_KEY: '1000000',
      WS_MAX_OPERATIONS_PER_SOCKET: '10000',
      WS_MAX_CONNECTIONS_PER_KEY: '1000000',
      WS_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
      RATE_LIMIT_PER_MINUTE: '0',
    },
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: opts.databaseUrl,
      authCacheTtlMs: 60_000,
      dbPoolSize: opts.poolSize,
    },
  );
  const database: Database = await openDatabase(opts.databaseUrl, { poolSize: config.dbPoolSize, migrate: false });
  const gateway: Gateway = await startGateway(config, { database, logger: jsonLogger({ service: 'fanout-gateway' }, undefined, config.logLevel) });

  // A probe listener, registered before any subscriber: the tenant's listener set is iterated in
  // insertion order, so it runs first when the tailer hands over an event. It marks the moment
  // the event reached this process's fan-out, and (setImmediate) when the synchronous fan-out work
  // queued behind it (every subscriber's execute + stringify + send) has run.
  let waiting: { callId: string; resolve: (times: { delivered: number; drained: number }) => void } | null = null;
  gateway.eventLog.listen(opts.appId, 'test', (event) => {
    if (!waiting || event.callId !== waiting.callId) return;
    const { resolve } = waiting;
    waiting = null;
    const delivered = wallNow();
    void afterMicrotasks().then((drained) => resolve({ delivered, drained }));
  });

  return {
    port: gateway.port,
    // Subscriptions registered, less the probe: `liveSubscriptions` where the gateway has it
    // (members of fan-out groups, which listen once per group), else one listener each.
    count: () => {
      const live = (gateway as { liveSubscriptions?: number }).liveSubscriptions;
      return (typeof live === 'number' ? live : gateway.eventLog.listenerCount) - 1;
    },
    async trigger(callId) {
      const reached = new Promise<{ delivered: number; drained: number }>((resolve, reject) => {
        waiting = { callId, resolve };
        setTimeout(() => reject(new Error(`event of ${callId} not delivered within 20 s`)), 20_000).unref();
      });
      const cpu = processCpu();
      const tStart = wallNow();
      const applied = await gateway.lifecycle.apply({ callId, status: CallStatus.COMPLETED, endReason: EndReason.HANGUP });
      const tCommit = wallNow();
      if (!applied) throw new Error(`${callId}: the transition to COMPLETED did not apply (is the call IN_PROGRESS?)`);
      const { delivered, drained } = await reached;
      const used = cpu();
      return {
        tStart,
        tCommit,
        tDelivered: delivered,
        tDrained: drained,
        cpuUserMs: used.user / 1000,
        cpuSystemMs: used.system / 1000,
        position: applied.event.position ?? null,
      };
    },
    async stop() {
      await gateway.stop();
      await database.close();
    },
  };
}

async function startFloorServer(): Promise<Server> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/graphql',
    maxPayload: 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  /** Subscribed sockets and their subscription id. */
  const subscribers = new Map<WebSocket, string>();
  /** Per socket: `{"id":"…","type":"next","payload":` as a Buffer (for the `concat` frame). */
  const prefixes = new Map<WebSocket, Buffer>();
  const suffix = Buffer.from('}');
  wss.on('connection', (socket) => {
    let acknowledged = false;
    socket.on('message', (data) => {
      let message: { type?: string; id?: string; payload?: Record<string, unknown> };
      try {
        message = JSON.parse(String(data));
      } catch {
        socket.close(4400, 'Invalid message received');
        return;
      }
      if (message.type === 'connection_init') {
        const authorization = message.payload?.authorization;
        if (typeof authorization !== 'string' || !authorization.startsWith('Bearer sk_test_app_')) {
          socket.close(4403, 'Forbidden');
          return;
        }
        acknowledged = true;
        socket.send('{"type":"connection_ack"}');
      } else if (message.type === 'subscribe' && acknowledged && typeof message.id === 'string') {
        subscribers.set(socket, message.id);
        prefixes.set(socket, Buffer.from(`{"id":${JSON.stringify(message.id)},"type":"next","payload":`));
      } else if (message.type === 'complete') {
        subscribers.delete(socket);
        prefixes.delete(socket);
      } else if (message.type === 'ping') {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on('close', () => {
      subscribers.delete(socket);
      prefixes.delete(socket);
    });
    socket.on('error', () => {});
  });

  let position = 1_000;
  return {
    port: (wss.address() as { port: number }).port,
    count: () => subscribers.size,
    async trigger(callId, frame) {
      const cpu = processCpu();
      const tStart = wallNow();
      // The same selection and shape the gateway sends for a COMPLETED event of an answered call.
      const occurredAt = new Date();
      const payload = {
        data: {
          callStatus: {
            cursor: encodeEventCursor({ position: String(++position), callId, sequence: 4 }),
            sequence: 4,
            status: 'COMPLETED',
            previousStatus: 'IN_PROGRESS',
            occurredAt: occurredAt.toISOString(),
            call: {
              id: callId,
              status: 'COMPLETED',
              toAddress: TO_STAYS_IN_PROGRESS,
              fromAddress: FROM_NUMBER,
              answeredAt: new Date(occurredAt.getTime() - 42_000).toISOString(),
            },
          },
        },
      };
      if (frame === 'shared') {
        // Serialized once, one buffer for every socket (the id is the first subscriber's).
        const first = subscribers.values().next().value ?? '1';
        const buffer = Buffer.from(JSON.stringify({ id: first, type: 'next', payload }));
        for (const socket of subscribers.keys()) socket.send(buffer, { binary: false });
      } else if (frame === 'spliced') {
        // The payload serialized once; each socket's frame carries its own subscription id.
        const json = JSON.stringify(payload);
        for (const [socket, id] of subscribers) socket.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${json}}`);
      } else {
        // The payload encoded once; each frame is Buffer.concat of the socket's prefix, it and '}'.
        const json = Buffer.from(JSON.stringify(payload));
        for (const [socket, prefix] of prefixes) socket.send(Buffer.concat([prefix, json, suffix]), { binary: false });
      }
      const tDrained = await afterMicrotasks();
      const used = cpu();
      return { tStart, tCommit: tStart, tDelivered: tStart, tDrained, cpuUserMs: used.user / 1000, cpuSystemMs: used.system / 1000, position: null };
    },
    async stop() {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

async function main(opts: FanoutServerOptions): Promise<void> {
  const server = opts.kind === 'gateway' ? await startGatewayServer(opts) : await startFloorServer();
  serveRequests<ServerRequest>(async (request) => {
    switch (request.type) {
      case 'memory':
        return memory(request.snapshot);
      case 'count':
        return server.count();
      case 'trigger':
        return server.trigger(request.callId, request.frame ?? 'shared');
      case 'profile-start':
        return profileStart();
      case 'profile-stop':
        return profileStop(request.file);
      case 'stop':
        setTimeout(() => process.exit(0), 5_000).unref();
        await server.stop().catch(() => {});
        setImmediate(() => process.exit(0));
        return null;
    }
  });
  process.send!({ type: 'ready', port: server.port });
}

main(options).catch((error: unknown) => {
  process.send?.({ type: 'fatal', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  setTimeout(() => process.exit(1), 500);
});
