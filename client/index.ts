import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

export * from './generated/graphql.js';

export interface CallsClientOptions {
  /** http(s)://host:port/graphql; the WebSocket URL is derived from it. */
  url: string;
  /** sk_test_app_… or sk_live_app_… */
  apiKey: string;
  /** Outside browsers: a WebSocket implementation, e.g. `import WebSocket from 'ws'`. */
  webSocketImpl?: unknown;
  fetch?: typeof fetch;
}

/** A GraphQL error of the gateway, with its code (UNAUTHENTICATED, RATE_LIMITED, BAD_USER_INPUT …). */
export class CallsGatewayError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly errors: readonly { message: string; extensions?: Record<string, unknown> }[],
  ) {
    super(message);
    this.name = 'CallsGatewayError';
  }
}

export interface CallsClient {
  /** A query or mutation over HTTP, typed by the generated document. */
  request<TData, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TData, TVariables>, variables?: TVariables): Promise<TData>;
  /** A subscription over WebSocket (graphql-transport-ws): each event, until `return()` or close(). */
  subscribe<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables?: TVariables,
  ): AsyncIterableIterator<TData>;
  close(): Promise<void>;
}

/** The typed client of the calls gateway: fetch for queries and mutations, graphql-ws for subscriptions. */
export function createCallsClient(options: CallsClientOptions): CallsClient {
  const doFetch = options.fetch ?? fetch;
  const authorization = `Bearer ${options.apiKey}`;
  let ws: Client | undefined;
  const socket = () =>
    (ws ??= createClient({
      url: options.url.replace(/^http/, 'ws'),
      connectionParams: { authorization },
      lazy: true,
      retryAttempts: 5,
      ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    }));
  const fail = (errors: readonly { message: string; extensions?: Record<string, unknown> }[]) =>
    new CallsGatewayError(errors[0]?.message ?? 'GraphQL error', errors[0]?.extensions?.code as string | undefined, errors);

  return {
    async request(document, variables) {
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
      if (body.errors?.length) throw fail(body.errors);
      return body.data as never;
    },
    subscribe(document, variables) {
      const iterator = socket().iterate({ query: print(document), variables: variables as Record<string, unknown> | undefined });
      return {
        async next() {
          const result = await iterator.next();
          if (result.done) return { done: true, value: undefined };
          if (result.value.errors?.length) throw fail(result.value.errors as never);
          return { done: false, value: result.value.data as never };
        },
        async return() {
          await iterator.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
    async close() {
      await ws?.dispose();
    },
  };
}
