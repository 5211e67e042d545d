import type http from 'node:http';
import { WebSocketServer } from 'ws';
import { serveGraphQLWs } from './ws-adapter.js';
import { GraphQLError, getOperationAST, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { SocketGuard, TOO_MANY_CONNECTIONS, type WsLimits } from './ws-guard.js';
import type { Authenticator, Principal } from '../domain/authenticator.js';
import { createSharedSubscribe } from '../graphql/shared-execution.js';
import type { FanoutHub } from '../graphql/fanout.js';
import type { OperationPipeline } from './pipeline.js';
import type { CorsPolicy } from './cors.js';
import type { Logger } from '../domain/logger.js';
import { CODE } from '../graphql/error-codes.js';
import { ROOT_CONTEXT, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { SpanKind, startSpan, tracing } from '../shared/tracing.js';
import { describeOperation } from './operation-spans.js';

type SocketExtra = {
  principal?: Principal;
  socket: import('ws').WebSocket;
  request: import('node:http').IncomingMessage;
  /** When each operation's subscribe message arrived (for its duration). */
  started?: Map<string, bigint>;
  /** Each operation's span while tracing is on, ended when it is recorded. */
  spans?: Map<string, Span>;
};

/**
 * graphql-ws (`graphql-transport-ws`) on the same port and path as HTTP: a thin adapter over the
 * operation pipeline (server/pipeline.ts), which authenticates, rate-limits, prepares the
 * document, executes, formats errors and records, as for HTTP. The API key comes in
 * `connection_init` (`connectionParams.authorization`); a missing or bad key closes the socket
 * with 4403, as graphql-ws does when onConnect returns false. What is the transport's own (caps
 * on sockets and operations, the key re-checked, slow consumers) is in ws-guard.ts.
 */
/** The WebSocket server attached to the HTTP server. */
export interface WebSocketServerHandle {
  dispose(): Promise<void>;
  /** Cuts every socket at once. */
  dropAll(): void;
  readonly operations: number;
}

export function attachWebSocketServer(options: {
  httpServer: http.Server;
  /** A browser's upgrade from another origin needs an application that allows it, and the key's application to allow it. */
  cors: CorsPolicy;
  schema: GraphQLSchema;
  authenticator: Authenticator;
  pipeline: OperationPipeline;
  fanout: FanoutHub;
  logger: Logger;
  limits: WsLimits & { initTimeoutMs: number; maxPayloadBytes: number; keepAliveMs: number };
}): WebSocketServerHandle {
  const { pipeline } = options;
  // maxPayload: a frame larger than this closes the socket (1009) before it is buffered whole.
  const { cors } = options;
  const wsServer = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: options.limits.maxPayloadBytes,
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
  const guard = new SocketGuard(options.authenticator, (principal) => pipeline.admit(principal), options.limits, options.logger);
  // Registered before the graphql-ws adapter's listener: a socket over its address's cap is closed at once.
  wsServer.on('connection', (socket, request) => {
    if (!guard.opened(socket, request.socket.remoteAddress ?? 'unknown')) socket.close(TOO_MANY_CONNECTIONS, 'Too many connections from this address');
  });
  const cleanup = serveGraphQLWs<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema: options.schema,
      // One execution per event and selection, shared by every subscriber (shared-execution.ts).
      subscribe: inOperationSpan(createSharedSubscribe(options.fanout, pipeline.executor)),
      execute: inOperationSpan(pipeline.executor),
      // One parsed, validated document per query text (documents.ts); context and root value are
      // filled in by graphql-ws from the options below.
      onSubscribe: async (ctx, id, payload) => {
        (ctx.extra.started ??= new Map()).set(id, process.hrtime.bigint());
        const span = startSpan('graphql-ws subscribe', { kind: SpanKind.SERVER, attributes: { 'network.protocol.name': 'graphql-transport-ws' } });
        if (span) (ctx.extra.spans ??= new Map()).set(id, span);
        // Admitted (counted against the key's rate limit) before any parsing; every refusal after
        // this releases its place, here or in onError (graphql-ws reports some refusals, such as
        // an operation it cannot identify, without calling onComplete).
        const refused = await guard.admit(ctx.extra.socket, id);
        if (refused) return [refused];
        const refuse = (errors: readonly GraphQLError[]) => {
          guard.released(ctx.extra.socket, id);
          return [...errors];
        };
        // A registered document named by documentId, or a document refused unread by the application's policy (pipeline.source).
        let query = payload.query;
        const documentId = (payload as { documentId?: unknown }).documentId;
        const principal = ctx.extra.principal!;
        if (pipeline.needsSource(principal, documentId)) {
          const source = await pipeline.source(principal, documentId, query);
          if (source instanceof GraphQLError) return refuse([source]);
          query = source;
        }
        // The document, its operation and the token's scopes: the pipeline's one sequence (admitDocument).
        const admitted = pipeline.admitDocument(principal, query, payload.operationName);
        if ('errors' in admitted) return refuse(admitted.errors);
        const entry = admitted.entry;
        if (span) describeOperation(span, admitted.operation, entry.key, principal);
        return {
          schema: options.schema,
          document: entry.document,
          variableValues: payload.variables ?? undefined,
          operationName: payload.operationName ?? undefined,
        };
      },
      onOperation: (ctx, id, payload, args, result) => {
        pipeline.executions++;
        endSpan(ctx.extra, id);
        // A subscription is recorded when it is set up (or refused); a query or mutation with its result.
        const errors = 'errors' in result ? (result as ExecutionResult).errors : undefined;
        const operation = getOperationAST(args.document, args.operationName) ?? undefined;
        pipeline.record({
          transport: 'ws',
          operation,
          operationName: operation?.name?.value ?? payload.operationName ?? null,
          requestId: (args.contextValue as { requestId?: string } | undefined)?.requestId,
          principal: ctx.extra.principal,
          data: 'data' in result ? (result as ExecutionResult).data : undefined,
          errorCodes: errors?.map((error) => pipeline.formatError(error.toJSON(), error).extensions?.code),
          seconds: elapsed(ctx.extra, id),
        });
      },
      onComplete: (ctx, id) => {
        guard.released(ctx.extra.socket, id);
        forget(ctx.extra, 'started', id);
      },
      onClose: (ctx) => guard.closed(ctx.extra.socket),
      onDisconnect: (ctx) => guard.closed(ctx.extra.socket),
      // No connection_init within this long: closed with 4408.
      connectionInitWaitTimeout: options.limits.initTimeoutMs,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        const started = process.hrtime.bigint();
        const refuse = (error: GraphQLError, principal?: Principal) => {
          // Refused at connection_init (4403): recorded as HTTP's refusals of the same steps are.
          pipeline.recordRefusal({
            transport: 'ws',
            operationName: null,
            requestId: undefined,
            principal,
            errorCodes: [error.extensions.code],
            seconds: Number(process.hrtime.bigint() - started) / 1e9,
          });
          return false;
        };
        const principal = await pipeline.authenticate(ctx.extra.request.socket.remoteAddress, typeof authorization === 'string' ? authorization : undefined);
        if (principal instanceof GraphQLError) return refuse(principal);
        // A browser's socket from another origin: the key's application must allow that origin (else 4403).
        try {
          await pipeline.checkOrigin(principal, cors.foreignOrigin(ctx.extra.request));
        } catch (error) {
          return refuse(error as GraphQLError, principal);
        }
        ctx.extra.principal = principal;
        if (!guard.connected(ctx.extra.socket, authorization as string, principal)) {
          ctx.extra.socket.close(TOO_MANY_CONNECTIONS, 'Too many connections for this API key');
          return false;
        }
        // graphql-ws keeps the HTTP upgrade request in `extra` for the socket's lifetime; nothing
        // here needs it after authentication, and it is a few KB per idle connection.
        (ctx.extra as { request?: unknown }).request = undefined;
        return true;
      },
      // A context per operation; a subscription's lives as long as the subscription, so its
      // loaders do not cache and its entity manager is forked per use (per event).
      context: (ctx, id) => {
        const socket = ctx.extra.socket;
        const send = (data: string) => guard.send(socket, data);
        const value = pipeline.contextForSocket(ctx.extra.principal!, { id, send });
        const span = ctx.extra.spans?.get(id);
        if (span) operationSpans.set(value, span);
        return value;
      },
      // An operation that ends in an error frame is over: release its place (a no-op for one never admitted).
      onError: (ctx, id, payload, errors) => {
        guard.released(ctx.extra.socket, id);
        endSpan(ctx.extra, id, errors[0]?.extensions?.code as string | undefined);
        // Refused before it ran (limits, validation, rate limit): recorded like HTTP's refusals.
        if (ctx.extra.started?.has(id)) {
          pipeline.recordRefusal({
            transport: 'ws',
            operationName: payload.operationName ?? null,
            requestId: undefined,
            principal: ctx.extra.principal,
            errorCodes: errors.map((error) => error.extensions?.code ?? CODE.GRAPHQL_VALIDATION_FAILED),
            seconds: elapsed(ctx.extra, id),
          });
        }
        return pipeline.clientErrors(errors) as never;
      },
      onNext: (_ctx, _id, payload, args, result) => {
        if (!result.errors?.length) return result;
        pipeline.logFailures(result.errors, (args.contextValue as { requestId?: string } | undefined)?.requestId, payload.operationName ?? null);
        return { ...result, errors: result.errors.map((error) => pipeline.formatError(error.toJSON(), error)) } as unknown as typeof result;
      },
    },
    wsServer,
    options.logger,
    options.limits.keepAliveMs,
  );
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
        cleanup.dispose();
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      })();
      return disposing;
    },
  };
}

/** The span of each WebSocket operation's context (tracing on), so its execution (and its SQL) runs inside it. */
const operationSpans = new WeakMap<object, Span>();

/** Runs graphql-ws's execute or subscribe inside the operation's span, when it has one. */
function inOperationSpan<A extends { contextValue?: unknown }, R>(run: (args: A) => R): (args: A) => R {
  return (args) => {
    const span = tracing.on ? operationSpans.get(args.contextValue as object) : undefined;
    return span ? context.with(trace.setSpan(ROOT_CONTEXT, span), () => run(args)) : run(args);
  };
}

/** Ends an operation's span (tracing on), with the code it was refused with. */
function endSpan(extra: SocketExtra, id: string, errorCode?: string): void {
  const span = extra.spans?.get(id);
  if (!span) return;
  forget(extra, 'spans', id);
  if (errorCode) span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode });
  span.end();
}

/** Seconds since the operation's subscribe message; forgets it (each operation is recorded once). */
function elapsed(extra: SocketExtra, id: string): number {
  const started = extra.started?.get(id);
  forget(extra, 'started', id);
  return started === undefined ? 0 : Number(process.hrtime.bigint() - started) / 1e9;
}

/** Drops an operation's entry, and the map with its last one: an idle subscriber's socket keeps no empty map (≈0.3 KB each). */
function forget(extra: SocketExtra, map: 'started' | 'spans', id: string): void {
  const entries = extra[map];
  if (!entries) return;
  entries.delete(id);
  if (entries.size === 0) extra[map] = undefined;
}
