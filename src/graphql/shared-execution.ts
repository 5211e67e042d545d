import { createHash } from 'node:crypto';
import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { CallEventStream, LiveSink } from '../events/call-event-stream.js';
import { HANDED_OFF } from '../events/call-event-stream.js';

export { HANDED_OFF };
import type { Executor } from './executor.js';

/**
 * Subscriptions that execute once per event and selection, not once per subscriber.
 *
 * graphql-js maps every source event of every subscriber through `execute` on its own: with
 * 10,000 dashboards on one status change, that is 10,000 identical executions. The event log
 * hands the same event object to every listener of a tenant, so the result of executing one
 * selection with one set of variables on one event is memoised on that object (a WeakMap: it
 * lives as long as the event is referenced) and shared by every subscriber with that selection.
 * This is safe because a result depends only on the event, the selection and the variables:
 * the payload carries its call, and an event only reaches listeners of its own tenant.
 */
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
/**
 * Documents are shared per query text (server/documents.ts), but the cache may evict one and a
 * later subscriber gets a new object for the same text: the key is a SHA-256 of the printed
 * document, so the same text always meets its group and two texts never share one (an id
 * counter with a cap handed every text past it the same id). Memoised per document object.
 */
const documentKeys = new WeakMap<object, string>();

function selectionKey(args: ExecutionArgs): string {
  let id = documentKeys.get(args.document);
  if (id === undefined) {
    id = createHash('sha256').update(print(args.document)).digest('base64url');
    documentKeys.set(args.document, id);
  }
  return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

export function executeShared(args: ExecutionArgs, key: string, payload: unknown, run: Executor = execute): Promise<ExecutionResult> | ExecutionResult {
  if (payload === null || typeof payload !== 'object') return run({ ...args, rootValue: payload });
  let perEvent = executions.get(payload);
  if (!perEvent) executions.set(payload, (perEvent = new Map()));
  let result = perEvent.get(key);
  if (!result) {
    result = run({ ...args, rootValue: payload });
    perEvent.set(key, result);
  }
  return result;
}

/** What an operation's context offers when it runs on a WebSocket (see server/ws.ts). */
export interface SocketOperation {
  id: string;
  send(data: string): void;
}

/** Where the live part of a stream goes (FanoutHub in fanout.ts). */
export interface LiveSinks {
  sink(args: ExecutionArgs, key: string, operation: SocketOperation): LiveSink;
}

/**
 * The WebSocket server's `subscribe` (server/ws.ts): the source stream's replay is executed per
 * event and sent by the server; its live part is handed to the FanoutHub, which executes and
 * serializes each event once per group of identical subscriptions and writes the frame to every
 * member's socket. From the hand-off on, the results end with a done result carrying HANDED_OFF.
 */
export function createSharedSubscribe(hub: LiveSinks, run: Executor = execute) {
  return async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult, typeof HANDED_OFF | undefined> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source as ExecutionResult;
    const key = selectionKey(args);
    const stream = source as AsyncIterableIterator<unknown, typeof HANDED_OFF | undefined> & Partial<Pick<CallEventStream, 'handOffTo'>>;
    const operation = (args.contextValue as { socketOperation?: SocketOperation } | undefined)?.socketOperation;
    if (operation && stream.handOffTo) stream.handOffTo(hub.sink(args, key, operation));
    return new SharedResults(stream, args, key, run);
  };
}

/**
 * A subscription's results: its stream's events (the replay) executed through executeShared,
 * until the stream hands its live events over (done, with HANDED_OFF). Then it forgets its
 * arguments, whose context (the operation's services) an idle subscriber need not keep. A class,
 * not an object of closures (≈0.2 KB per idle subscriber); return() reaches the stream at once.
 */
class SharedResults implements AsyncIterableIterator<ExecutionResult, typeof HANDED_OFF | undefined> {
  constructor(
    private readonly stream: AsyncIterator<unknown, typeof HANDED_OFF | undefined>,
    private args: ExecutionArgs | undefined,
    private key: string,
    private readonly run: Executor,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult, typeof HANDED_OFF | undefined>> {
    return this.stream.next().then((item) => {
      if (item.done || !this.args) {
        this.args = undefined;
        this.key = '';
        return { value: item.done ? item.value : undefined, done: true as const };
      }
      return Promise.resolve(executeShared(this.args, this.key, item.value, this.run)).then((value) => ({ value, done: false as const }));
    });
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.args = undefined;
    await this.stream.return?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
