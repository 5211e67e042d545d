import type http from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  MessageType,
  handleProtocols,
  stringifyMessage,
  validateMessage,
  type Message,
  type SubscribePayload,
} from 'graphql-ws';
import { GraphQLError, OperationTypeNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { SocketGuard, TOO_MANY_CONNECTIONS, type WsLimits } from './ws-guard.js';
import type { Authenticator, Principal } from '../domain/authenticator.js';
import { HANDED_OFF, createSharedSubscribe, type SocketOperation } from '../graphql/shared-execution.js';
import type { FanoutHub } from '../graphql/fanout.js';
import type { OperationPipeline } from './pipeline.js';
import type { CorsPolicy } from './cors.js';
import type { Logger } from '../domain/logger.js';
import { CODE } from '../graphql/error-codes.js';
import { ROOT_CONTEXT, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { SpanKind, startSpan } from '../shared/tracing.js';
import { describeOperation } from './operation-spans.js';

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, graphql-ws's PROTOCOL.md) on the same port and
 * path as HTTP: a thin server of the protocol over the operation pipeline (server/pipeline.ts),
 * which authenticates, rate-limits, prepares the document, executes, formats errors and records,
 * as for HTTP. The API key comes in `connection_init` (`connectionParams.authorization`); a
 * missing or bad key closes the socket with 4403. What is the transport's own (caps on sockets
 * and operations, the key re-checked, slow consumers) is in ws-guard.ts.
 *
 * Written here rather than graphql-ws's `makeServer` for memory: an idle `callStatus` subscriber
 * is a socket, this connection's record, one operation record and its stream (its live events
 * are written by the fan-out, graphql/fanout.ts). makeServer kept per subscription its handler
 * suspended in a `for await` (an async frame, its promises and reactions), the parsed `subscribe`
 * message with its query text, three emit closures, the socket's closures and a cleared init
 * timer: about 2.5 KB per idle subscriber (bench/fanout-README.md). The protocol's messages are
 * still graphql-ws's: parsed and checked by its `validateMessage`, written by its
 * `stringifyMessage`, with its close codes; its client is what every test speaks, and
 * test/ws-protocol.test.ts runs the same exchanges against makeServer and against this server.
 */
/** The WebSocket server attached to the HTTP server. */
export interface WebSocketServerHandle {
  dispose(): Promise<void>;
  /** Cuts every socket at once. */
  dropAll(): void;
  readonly operations: number;
}

type Limits = WsLimits & { initTimeoutMs: number; maxPayloadBytes: number; keepAliveMs: number };

export function attachWebSocketServer(options: {
  httpServer: http.Server;
  /** A browser's upgrade from another origin needs an application that allows it, and the key's application to allow it. */
  cors: CorsPolicy;
  schema: GraphQLSchema;
  authenticator: Authenticator;
  pipeline: OperationPipeline;
  fanout: FanoutHub;
  logger: Logger;
  limits: Limits;
}): WebSocketServerHandle {
  const { pipeline, cors, logger } = options;
  const wsServer = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    // A frame larger than this closes the socket (1009) before it is buffered whole.
    maxPayload: options.limits.maxPayloadBytes,
    handleProtocols,
    // The Origin check of CORS, which browsers do not apply to WebSockets: an upgrade from a
    // foreign origin no application allows is refused (403) before any socket exists.
    verifyClient: (info, done) => {
      const origin = cors.foreignOrigin(info.req);
      if (origin === undefined) return done(true);
      cors.anyAllows(origin, info.req.socket.remoteAddress).then(
        (allowed) => done(allowed, 403, 'Origin not allowed'),
        () => done(false, 503),
      );
    },
  });
  wsServer.on('error', (error) => logger.error('WebSocket server error', { error: error.message }));
  const guard = new SocketGuard(options.authenticator, (principal) => pipeline.admit(principal), options.limits, logger);
  const server: Server = {
    schema: options.schema,
    pipeline,
    cors,
    guard,
    logger,
    initTimeoutMs: options.limits.initTimeoutMs,
    // One execution per event and selection, shared by every subscriber (shared-execution.ts).
    subscribe: createSharedSubscribe(options.fanout, pipeline.executor),
    execute: pipeline.executor,
  };

  wsServer.on('connection', (socket: Socket, request) => {
    const address = request.socket.remoteAddress ?? 'unknown';
    if (!guard.opened(address)) return socket.close(TOO_MANY_CONNECTIONS, 'Too many connections from this address');
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      guard.left(address);
      return socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    }
    socket[CONNECTION] = new Connection(socket, server, request, address);
    // Listeners shared by every socket (`this` is the socket): a closure per socket and event is ≈0.1 KB per idle subscriber.
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.on('pong', onPong);
    socket.on('error', onError);
  });

  // One keep-alive timer for every socket: a socket that did not answer the previous ping is terminated.
  const keepAlive = setInterval(() => {
    for (const socket of wsServer.clients as Set<Socket>) {
      const connection = socket[CONNECTION];
      if (!connection || socket.readyState !== socket.OPEN) continue;
      if (connection.awaitingPong) {
        socket.terminate();
        continue;
      }
      connection.awaitingPong = true;
      socket.ping();
    }
  }, options.limits.keepAliveMs);
  keepAlive.unref();

  let disposing: Promise<void> | undefined;
  return {
    get operations() {
      return guard.operations;
    },
    dropAll() {
      for (const client of wsServer.clients) client.terminate();
    },
    dispose() {
      disposing ??= (async () => {
        await guard.stop();
        clearInterval(keepAlive);
        wsServer.removeAllListeners('connection');
        for (const socket of wsServer.clients) socket.close(1001, 'Going away');
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      })();
      return disposing;
    },
  };
}

/** What every connection shares. */
interface Server {
  schema: GraphQLSchema;
  pipeline: OperationPipeline;
  cors: CorsPolicy;
  guard: SocketGuard;
  logger: Logger;
  initTimeoutMs: number;
  subscribe: (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult, typeof HANDED_OFF | undefined> | ExecutionResult>;
  execute: (args: ExecutionArgs) => Promise<ExecutionResult> | ExecutionResult;
}

const CONNECTION = Symbol('graphql-transport-ws connection');
type Socket = WebSocket & { [CONNECTION]?: Connection };

function onMessage(this: Socket, data: RawData): void {
  this[CONNECTION]?.received(data);
}

function onClose(this: Socket): void {
  this[CONNECTION]?.closed();
}

function onPong(this: Socket): void {
  const connection = this[CONNECTION];
  if (connection) connection.awaitingPong = false;
}

/** A frame over `maxPayload`, a malformed frame (ws then closes with 1009 or 1002): one warn line, not a stack trace per socket that any client could trigger. */
function onError(this: Socket, error: Error & { code?: string }): void {
  this[CONNECTION]?.server.logger.warn('WebSocket closed on a protocol error', { code: error.code ?? 'unknown', error: error.message });
}

const OPENED = 0;
const INIT_RECEIVED = 1;
const ACKNOWLEDGED = 2;
const CLOSED = 3;

/** One operation (`subscribe` message) of a connection, from its message to its end: also its context's way to the socket. */
class Operation implements SocketOperation {
  /** When its message arrived (performance.now()), until it is recorded; then -1. */
  started: number;
  span: Span | undefined = undefined;
  iterator: AsyncIterator<ExecutionResult, typeof HANDED_OFF | undefined> | undefined = undefined;
  /** Counted against the socket's and the key's caps (ws-guard.ts) until it ends. */
  admitted = false;

  constructor(
    readonly id: string,
    readonly connection: Connection,
  ) {
    this.started = performance.now();
  }

  /** A live event's frame (graphql/fanout.ts): unless the socket is too far behind. */
  send(data: string): void {
    this.connection.server.guard.send(this.connection.socket, data);
  }

  /** Seconds since its message; once (each operation is recorded once). */
  elapsed(): number {
    const seconds = this.started < 0 ? 0 : (performance.now() - this.started) / 1000;
    this.started = -1;
    return seconds;
  }
}

class Connection {
  state = OPENED;
  principal: Principal | undefined = undefined;
  awaitingPong = false;
  /** Until connection_init: for the key's check (its address, its origin). */
  private request: http.IncomingMessage | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  /**
   * Operations from their `subscribe` message to their end: the only one itself, more by id in a
   * Map. A Map per socket is ≈0.2 KB per idle subscriber, and most sockets carry one operation.
   */
  private operations: Operation | Map<string, Operation> | undefined = undefined;

  constructor(
    readonly socket: Socket,
    readonly server: Server,
    request: http.IncomingMessage,
    private readonly address: string,
  ) {
    this.request = request;
    // No connection_init within this long: closed with 4408.
    const wait = server.initTimeoutMs;
    if (wait > 0 && Number.isFinite(wait)) {
      this.initTimer = setTimeout(() => {
        if (this.state === OPENED) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, wait);
    }
  }

  received(data: RawData): void {
    let message: Message;
    try {
      message = parseMessage(textOf(data));
    } catch {
      return this.socket.close(CloseCode.BadRequest, 'Invalid message received');
    }
    this.handle(message).catch((error: unknown) => {
      this.server.logger.error('WebSocket message handling failed', { error: String((error as Error)?.stack ?? error) });
      this.socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }

  private async handle(message: Message): Promise<void> {
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.state !== OPENED) return this.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        this.state = INIT_RECEIVED;
        clearTimeout(this.initTimer);
        this.initTimer = undefined;
        const accepted = await this.connect(isObject(message.payload) ? message.payload : undefined);
        if (this.state === CLOSED) return;
        if (!accepted) return this.socket.close(CloseCode.Forbidden, 'Forbidden');
        this.state = ACKNOWLEDGED;
        return this.write(stringifyMessage({ type: MessageType.ConnectionAck }));
      }
      case MessageType.Ping:
        return this.write(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        if (this.state !== ACKNOWLEDGED) return this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
        if (this.operation(message.id)) return this.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
        const operation = new Operation(message.id, this);
        this.add(operation);
        try {
          await this.run(operation, message.payload);
        } catch (error) {
          this.end(operation);
          throw error;
        }
        return;
      }
      case MessageType.Complete: {
        // The client's complete: the operation ends now, without a frame back.
        const operation = this.operation(message.id);
        if (!operation) return;
        this.end(operation);
        await operation.iterator?.return?.();
        return;
      }
      default:
        // A message only a server sends (connection_ack, next, error): graphql-ws's makeServer throws, which closes with 4500.
        throw new Error(`Unexpected message of type ${(message as { type: string }).type} received`);
    }
  }

  /** connection_init: whether the key is valid, and allowed from the socket's origin; refusals are recorded as HTTP's are. */
  private async connect(params: Record<string, unknown> | undefined): Promise<boolean> {
    const { pipeline, cors, guard } = this.server;
    const request = this.request!;
    this.request = undefined;
    const authorization = params?.authorization;
    const started = performance.now();
    const refuse = (error: GraphQLError, principal?: Principal) => {
      // Refused at connection_init (4403): recorded as HTTP's refusals of the same steps are.
      pipeline.recordRefusal({
        transport: 'ws',
        operationName: null,
        requestId: undefined,
        principal,
        errorCodes: [error.extensions.code],
        seconds: (performance.now() - started) / 1000,
      });
      return false;
    };
    const principal = await pipeline.authenticate(request.socket.remoteAddress, typeof authorization === 'string' ? authorization : undefined);
    if (principal instanceof GraphQLError) return refuse(principal);
    // A browser's socket from another origin: the key's application must allow that origin (else 4403).
    try {
      await pipeline.checkOrigin(principal, cors.foreignOrigin(request));
    } catch (error) {
      return refuse(error as GraphQLError, principal);
    }
    // Closed while the key was checked: nothing to count.
    if (this.state === CLOSED) return false;
    if (!guard.connected(this.socket, authorization as string, principal)) {
      this.socket.close(TOO_MANY_CONNECTIONS, 'Too many connections for this API key');
      return false;
    }
    this.principal = principal;
    return true;
  }

  /** One `subscribe`: admitted, its document prepared, run; a subscription's results are then sent as they come. */
  private async run(operation: Operation, payload: SubscribePayload & { documentId?: unknown }): Promise<void> {
    const { pipeline, guard, schema } = this.server;
    const span = startSpan('graphql-ws subscribe', { kind: SpanKind.SERVER, attributes: { 'network.protocol.name': 'graphql-transport-ws' } });
    operation.span = span ?? undefined;
    // Admitted (counted against the key's rate limit and caps) before any parsing.
    const refused = await guard.admit(this.socket, operation.id);
    if (refused) return this.fail(operation, payload, [refused]);
    operation.admitted = true;
    if (!this.current(operation)) return this.end(operation);
    // A registered document named by documentId, or a document refused unread by the application's policy (pipeline.source).
    const principal = this.principal!;
    let query = payload.query;
    if (pipeline.needsSource(principal, payload.documentId)) {
      const source = await pipeline.source(principal, payload.documentId, query);
      if (source instanceof GraphQLError) return this.fail(operation, payload, [source]);
      query = source;
    }
    // The document, its operation and the token's scopes: the pipeline's one sequence (admitDocument).
    const admitted = pipeline.admitDocument(principal, query, payload.operationName);
    if ('errors' in admitted) return this.fail(operation, payload, admitted.errors);
    if (span) describeOperation(span, admitted.operation, admitted.entry.key, principal);
    const args: ExecutionArgs = {
      schema,
      document: admitted.entry.document,
      variableValues: payload.variables ?? undefined,
      operationName: payload.operationName ?? undefined,
      rootValue: undefined,
      contextValue: pipeline.contextForSocket(principal, operation),
    };
    const subscription = admitted.operation.operation === OperationTypeNode.SUBSCRIPTION;
    const start = () => (subscription ? this.server.subscribe(args) : this.server.execute(args));
    // Inside the operation's span, when it has one, so its execution (and its SQL) runs in it.
    const result = await (span ? context.with(trace.setSpan(ROOT_CONTEXT, span), start) : start());
    this.recordOperation(operation, admitted.operation, args, payload, result);
    if (Symbol.asyncIterator in result) {
      if (!this.current(operation)) {
        await result.return?.();
        return;
      }
      operation.iterator = result;
      return this.pump(operation, args);
    }
    if (this.current(operation)) {
      this.write(this.nextFrame(operation.id, result, args));
      this.write(stringifyMessage({ id: operation.id, type: MessageType.Complete }));
    }
    this.end(operation);
  }

  /**
   * A subscription's results, one at a time: the next is asked for once the last one's frame is
   * written (a long replay is paced by the client). Not an async function: once the stream has
   * handed its live events to the fan-out, `next()` settles only when the subscription ends, and
   * a suspended frame would be kept that long.
   */
  private pump(operation: Operation, args: ExecutionArgs): void {
    operation.iterator!.next().then(
      (item) => {
        if (!this.current(operation)) return;
        if (item.done) {
          // Its live events are the fan-out's now (graphql/fanout.ts): nothing more to ask for; it
          // stays open until the client completes it or the socket closes.
          if (item.value === HANDED_OFF) return;
          this.write(stringifyMessage({ id: operation.id, type: MessageType.Complete }));
          return this.end(operation);
        }
        this.write(this.nextFrame(operation.id, item.value, args), () => this.pump(operation, args));
      },
      (error: unknown) => {
        if (!this.current(operation)) return;
        const cause = error instanceof Error ? error : new Error(String(error));
        this.fail(operation, undefined, [new GraphQLError(cause.message, { originalError: cause })]);
      },
    );
  }

  /** A `next` frame: errors logged and formatted as on HTTP. */
  private nextFrame(id: string, result: ExecutionResult, args: ExecutionArgs): string {
    const { pipeline } = this.server;
    let payload = result;
    if (result.errors?.length) {
      pipeline.logFailures(result.errors, (args.contextValue as { requestId?: string }).requestId, args.operationName ?? null);
      payload = { ...result, errors: result.errors.map((error) => pipeline.formatError(error.toJSON(), error)) } as unknown as ExecutionResult;
    }
    return stringifyMessage({ id, type: MessageType.Next, payload });
  }

  /** Executed (a query's or mutation's result, a subscription's start or refusal): recorded once. */
  private recordOperation(
    operation: Operation,
    definition: OperationDefinitionNode,
    args: ExecutionArgs,
    payload: SubscribePayload,
    result: ExecutionResult | AsyncIterableIterator<ExecutionResult>,
  ): void {
    const { pipeline } = this.server;
    pipeline.executions++;
    endSpan(operation);
    const errors = 'errors' in result ? result.errors : undefined;
    pipeline.record({
      transport: 'ws',
      operation: definition,
      operationName: definition.name?.value ?? payload.operationName ?? null,
      requestId: (args.contextValue as { requestId?: string }).requestId,
      principal: this.principal,
      data: 'data' in result ? result.data : undefined,
      errorCodes: errors?.map((error) => pipeline.formatError(error.toJSON(), error).extensions?.code),
      seconds: operation.elapsed(),
    });
  }

  /**
   * An operation ends in an `error` frame: refused before it ran (caps, rate limit, document,
   * scopes: recorded like HTTP's refusals), or its stream failed.
   */
  private fail(operation: Operation, payload: SubscribePayload | undefined, errors: readonly GraphQLError[]): void {
    const { pipeline } = this.server;
    // Completed by the client or closed meanwhile: its place is released, and no frame is owed.
    const current = this.current(operation);
    this.end(operation);
    if (!current) return;
    endSpan(operation, errors[0]?.extensions?.code as string | undefined);
    if (operation.started >= 0) {
      pipeline.recordRefusal({
        transport: 'ws',
        operationName: payload?.operationName ?? null,
        requestId: undefined,
        principal: this.principal,
        errorCodes: errors.map((error) => error.extensions?.code ?? CODE.GRAPHQL_VALIDATION_FAILED),
        seconds: operation.elapsed(),
      });
    }
    this.write(stringifyMessage({ id: operation.id, type: MessageType.Error, payload: pipeline.clientErrors(errors) }));
  }

  private operation(id: string): Operation | undefined {
    const operations = this.operations;
    return operations instanceof Map ? operations.get(id) : operations?.id === id ? operations : undefined;
  }

  private add(operation: Operation): void {
    const operations = this.operations;
    if (operations === undefined) this.operations = operation;
    else if (operations instanceof Map) operations.set(operation.id, operation);
    else
      this.operations = new Map([
        [operations.id, operations],
        [operation.id, operation],
      ]);
  }

  /** Whether the operation is still this connection's (not completed by the client, not closed). */
  private current(operation: Operation): boolean {
    return this.operation(operation.id) === operation;
  }

  /** The operation is over: forgotten, its place released. */
  private end(operation: Operation): void {
    if (this.current(operation)) {
      const operations = this.operations;
      if (operations instanceof Map && operations.size > 2) operations.delete(operation.id);
      else if (operations instanceof Map) this.operations = [...operations.values()].find((other) => other !== operation);
      else this.operations = undefined;
    }
    if (operation.admitted) {
      operation.admitted = false;
      this.server.guard.released(this.socket, operation.id);
    }
  }

  private write(data: string, written?: () => void): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(data, written && ((error) => !error && written()));
  }

  /** The socket closed: every operation ends (its stream returned), its places are released. */
  closed(): void {
    this.state = CLOSED;
    clearTimeout(this.initTimer);
    this.initTimer = undefined;
    this.request = undefined;
    const operations = this.operations;
    this.operations = undefined;
    for (const operation of operations instanceof Map ? operations.values() : operations ? [operations] : []) {
      operation.iterator?.return?.()?.catch(() => undefined);
      if (operation.span) endSpan(operation);
    }
    this.server.guard.closed(this.socket);
    this.server.guard.left(this.address);
  }
}

/** Ends an operation's span (tracing on), with the code it was refused with. */
function endSpan(operation: Operation, errorCode?: string): void {
  const span = operation.span;
  if (!span) return;
  operation.span = undefined;
  if (errorCode) span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode });
  span.end();
}

/**
 * A message, checked by graphql-ws's `validateMessage`. A `subscribe` whose payload names a
 * registered document (`documentId`, server/pipeline.ts source) and has no `query` gets an empty
 * one, which the protocol requires to be a string (the pipeline reads the document from the id).
 */
function parseMessage(text: string): Message {
  const message = JSON.parse(text) as { type?: unknown; payload?: Record<string, unknown> | null };
  if (message?.type === MessageType.Subscribe && isObject(message.payload) && !('query' in message.payload) && 'documentId' in message.payload) {
    message.payload.query = '';
  }
  return validateMessage(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A WebSocket message's text, whatever form ws handed it over in. */
function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
