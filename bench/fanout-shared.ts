/**
 * What the fan-out benchmark's processes share (bench/fanout.ts starts them): the subscription,
 * the IPC messages, and how a child is started with a higher open-file limit (the clock and the
 * statistics are in helpers.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FROM_NUMBER, TO_STAYS_IN_PROGRESS } from './helpers.js';

/** One realistic live-dashboard subscription; every subscriber sends the same document and variables. */
export const SUBSCRIPTION = `subscription CallStatus($filter: CallFilter) {
  callStatus(filter: $filter) {
    cursor
    sequence
    status
    previousStatus
    occurredAt
    call { id status toAddress fromAddress answeredAt }
  }
}`;
/** Every subscriber filters on the destination of the calls the bench hangs up. */
export const VARIABLES = { filter: { toAddress: TO_STAYS_IN_PROGRESS } };

/**
 * The mixed workload (FANOUT_MIX=k): subscriber i sends variant i mod k, each a different
 * document (its own selection of event and call fields, and an alias naming the variant) with one
 * of four filters that all match the measured change, so the gateway executes k selections per
 * change instead of one. Variant 0 of a mix of 1 is SUBSCRIPTION with VARIABLES.
 */
export function subscriptionVariant(variant: number, mix: number): { query: string; variables: Record<string, unknown> } {
  if (mix <= 1) return { query: SUBSCRIPTION, variables: VARIABLES };
  const eventFields = ['cursor', 'previousStatus', 'occurredAt'].filter((_, bit) => variant & (1 << bit));
  const callFields = ['status', 'toAddress', 'fromAddress', 'answeredAt', 'direction', 'metadata'].filter((_, bit) => (variant >> 3) & (1 << bit));
  const query = `subscription CallStatus${variant}($filter: CallFilter) {
  callStatus(filter: $filter) {
    v${variant}: sequence
    status
    ${eventFields.join('\n    ')}
    call { id ${callFields.join(' ')} }
  }
}`;
  const filters = [
    { toAddress: TO_STAYS_IN_PROGRESS },
    { fromAddress: FROM_NUMBER },
    { toAddress: TO_STAYS_IN_PROGRESS, direction: 'OUTBOUND' },
    { fromAddress: FROM_NUMBER, fromChannel: ['PSTN'] },
  ];
  return { query, variables: { filter: filters[variant % filters.length] } };
}

export type ServerKind = 'gateway' | 'floor';
/**
 * How the floor builds its frame: `shared`, one buffer for every socket; `spliced`, the payload
 * serialized once and each socket's frame built as a string with its id; `concat`, the payload
 * encoded once into a Buffer and each socket's frame concatenated from its own cached id-prefix
 * Buffer, the payload and the closing brace (no string building or UTF-8 encoding per socket).
 */
export type FloorFrame = 'shared' | 'spliced' | 'concat';

export interface MemorySample {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** v8.getHeapSpaceStatistics(): used bytes per space. */
  spaces: Record<string, number>;
  /** v8.getHeapStatistics().number_of_native_contexts etc. are not interesting here; malloced memory is. */
  mallocedMemory: number;
}

export interface TriggerResult {
  /** Wall clock just before the status change (gateway: before apply(); floor: before JSON.stringify). */
  tStart: number;
  /** Gateway: apply() returned (the transition is committed). Floor: = tStart. */
  tCommit: number;
  /** Gateway: the tailer handed the event to this process's first listener. Floor: = tStart. */
  tDelivered: number;
  /** All synchronous fan-out work done (a setImmediate after the first listener / after the send loop). */
  tDrained: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Gateway: the event's log position; floor: null. */
  position: string | null;
}

/** parent → server child */
export type ServerRequest =
  | { id: number; type: 'memory'; snapshot?: string }
  | { id: number; type: 'count' }
  | { id: number; type: 'trigger'; callId: string; frame?: FloorFrame }
  | { id: number; type: 'profile-start' }
  | { id: number; type: 'profile-stop'; file: string }
  | { id: number; type: 'stop' };

/** parent → client child */
export type ClientRequest =
  | { id: number; type: 'connect'; url: string; count: number; authorization: string; concurrency: number; mix: number }
  | { id: number; type: 'arm' }
  | { id: number; type: 'collect'; timeoutMs: number; callId: string }
  | { id: number; type: 'reset' }
  | { id: number; type: 'stop' };

export interface CollectResult {
  /** Receive wall clock per socket that got the message (in socket order). */
  received: number[];
  missing: number;
  /** Messages that were not a `next` of the expected call (wrong id, error, complete, stray). */
  invalid: number;
  /** A sample of what was received (the first socket's text). */
  sample: string | null;
  bytes: number;
}

type ChildReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type ChildEvent = { type: 'ready'; port?: number; url?: string } | { type: 'fatal'; error: string };

/** Answers the parent's requests one by one; errors go back as { ok: false }. */
export function serveRequests<R extends { id: number; type: string }>(handle: (request: R) => Promise<unknown>): void {
  process.on('message', (request: R) => {
    handle(request).then(
      (result) => process.send!({ id: request.id, ok: true, result } satisfies ChildReply),
      (error: unknown) =>
        process.send!({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ChildReply),
    );
  });
  // Orphaned (the parent died): do not keep sockets or a server around.
  process.on('disconnect', () => process.exit(0));
}

/** A child process with an IPC channel, request/response over it, started under `ulimit -n`. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly ready: Promise<{ port?: number; url?: string }>;
  readonly process: ChildProcess;
  private exited = false;

  constructor(
    readonly name: string,
    script: string,
    options: { nodeArgs?: string[]; env?: Record<string, string>; openFiles: number; onStderr?: (line: string) => void },
  ) {
    // `ulimit -n` raises the soft limit (and, as root, the hard one) before exec'ing node; the
    // IPC channel's fd and NODE_CHANNEL_FD survive the exec.
    const shell = `ulimit -n ${options.openFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; echo "nofile=$(ulimit -n)" >&2; exec "$@"`;
    this.process = spawn('/bin/sh', ['-c', shell, 'sh', process.execPath, ...(options.nodeArgs ?? []), script], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, ...options.env },
    });
    let buffered = '';
    this.process.stderr!.setEncoding('utf8');
    this.process.stderr!.on('data', (chunk: string) => {
      buffered += chunk;
      for (let at = buffered.indexOf('\n'); at !== -1; at = buffered.indexOf('\n')) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        (options.onStderr ?? ((text) => process.stderr.write(`[${name}] ${text}\n`)))(line);
      }
    });
    this.ready = new Promise((resolve, reject) => {
      this.process.on('message', (message: ChildReply | ChildEvent) => {
        if ('type' in message) {
          if (message.type === 'ready') resolve({ port: message.port, url: message.url });
          else reject(new Error(`${name}: ${message.error}`));
          return;
        }
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`${name}: ${message.error}`));
      });
      this.process.on('exit', (code, signal) => {
        this.exited = true;
        const error = new Error(`${name} exited (code ${code}, signal ${signal})`);
        reject(error);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
      });
    });
    this.ready.catch(() => {});
  }

  request<T>(request: Record<string, unknown> & { type: string }): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.process.send({ ...request, id });
    });
  }

  /** Asks the child to stop, and kills it (by its pid) if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.request({ type: 'stop' }).catch(() => {});
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
