import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

export * from './generated/graphql.js';
import { CallStatusDocument, LogPositionDocument, type CallStatusSubscription, type CallStatusSubscriptionVariables } from './generated/graphql.js';

export interface CallsClientOptions {
  /** http(s)://host:port/graphql; the WebSocket URL is derived from it. */
  url: string;
  /** A backend's secret key, sk_test_app_… or sk_live_app_…: never in a browser. */
  apiKey?: string;
  /**
   * A browser's (or any short-lived caller's) access token, from your backend (which mints it with
   * createAccessToken). Called when no token is held, when the held one expires within
   * `refreshBeforeSeconds` (an open WebSocket is then replaced with one on the fresh token, its
   * subscriptions resumed), and once after the gateway refuses one (401, or a WebSocket closed
   * with 4403); concurrent callers share one call.
   */
  fetchToken?: () => Promise<string>;
  /** Refresh this long before the token's expiry (default 30 s). */
  refreshBeforeSeconds?: number;
  /** Outside browsers: a WebSocket implementation, e.g. `import WebSocket from 'ws'`. */
  webSocketImpl?: unknown;
  /** Told when the WebSocket connects and closes (with its close code), e.g. to show a connection state. */
  socketEvents?: { connected?: () => void; closed?: (code: number | undefined) => void };
  fetch?: typeof fetch;
  /**
   * Send each operation of this package by its id (`documentId`, sha256:… of its text) instead of
   * its text: for an application whose documents policy takes only registered documents
   * (TRUSTED_FOR_TOKENS, TRUSTED_ONLY), once this package's manifest
   * (`@calls-gateway/client/persisted-documents.json`) is registered with
   * `calls-gateway documents push`. Documents of your own (without an id) are still sent as text.
   */
  documentIds?: boolean;
}

/** A GraphQL error of the gateway, with its code (UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, BAD_USER_INPUT …). */
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
  /**
   * A subscription over WebSocket (graphql-transport-ws): each event, until `return()` or
   * close(). The socket reconnects after a drop or a token's end (with a fresh token); a
   * subscription whose events carry a `cursor` and whose document takes `$after` resumes after
   * the last event it delivered, so callStatus has no gap and no duplicate across reconnects.
   */
  subscribe<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables?: TVariables,
  ): AsyncIterableIterator<TData>;
  /**
   * Follows a list of calls live, each change applied once. Where the event log stands is read
   * first (callStats' `asOf`), then `read` (a list whose calls carry `version`), then callStatus
   * from that place (`variables`: its filter, or one call): an event is passed on only if it is
   * newer than what the list, or an earlier event, showed of its call (`sequence` above the
   * call's version). A change made while the list was read is neither lost nor passed twice.
   */
  follow<TList>(
    read: () => Promise<TList>,
    calls: (list: TList) => readonly { id: string; version: number }[],
    variables?: Omit<CallStatusSubscriptionVariables, 'after'>,
  ): Promise<{ list: TList; events: AsyncIterableIterator<CallStatusSubscription> }>;
  close(): Promise<void>;
}

/** The `exp` of a JWT, in ms; null when it has none or is not one (the gateway verifies it; this only schedules the refresh). */
function expiryOf(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(base64)) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Holds the current access token and refreshes it once for everyone who asks at the same time. */
class TokenHolder {
  private token: string | null = null;
  private expiresAt: number | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly fetchToken: () => Promise<string>,
    private readonly marginMs: number,
  ) {}

  async get(): Promise<string> {
    if (this.token && (this.expiresAt === null || this.expiresAt - Date.now() > this.marginMs)) return this.token;
    return this.refresh();
  }

  /** A new token, unless `stale` was already replaced by someone else's refresh. */
  async refresh(stale?: string): Promise<string> {
    if (stale !== undefined && this.token !== null && this.token !== stale) return this.token;
    this.pending ??= this.fetchToken()
      .then((token) => {
        this.token = token;
        this.expiresAt = expiryOf(token);
        return token;
      })
      .finally(() => (this.pending = null));
    return this.pending;
  }
}

/** The typed client of the calls gateway: fetch for queries and mutations, graphql-ws for subscriptions. */
export function createCallsClient(options: CallsClientOptions): CallsClient {
  if (!options.apiKey === !options.fetchToken) throw new TypeError('createCallsClient: pass apiKey (a backend) or fetchToken (a browser), one of them');
  const doFetch = options.fetch ?? fetch;
  const marginMs = (options.refreshBeforeSeconds ?? 30) * 1000;
  const tokens = options.fetchToken ? new TokenHolder(options.fetchToken, marginMs) : null;
  const credential = async () => (tokens ? tokens.get() : options.apiKey!);
  /** The token a WebSocket was refused with (4403): the next connection asks for a new one. */
  let refusedToken: string | null = null;
  let sentToken: string | null = null;
  let ws: Client | undefined;
  /**
   * Before the socket's token expires (`refreshBeforeSeconds`, but never sooner than halfway
   * through its remaining life): a fresh token is fetched and the socket replaced (graphql-ws
   * reconnects after terminate(), 4499, and resubscribes; `$after` subscriptions resume after
   * their last event). A failed fetch leaves the socket as it is: at the token's end the gateway
   * closes it (4403) and the reconnect asks again.
   */
  let renewal: ReturnType<typeof setTimeout> | undefined;
  const scheduleRenewal = () => {
    clearTimeout(renewal);
    const token = sentToken;
    const expiresAt = tokens && token ? expiryOf(token) : null;
    if (!tokens || !token || expiresAt === null) return;
    const left = expiresAt - Date.now();
    renewal = setTimeout(
      () => {
        tokens.refresh(token).then(
          () => ws?.terminate(),
          () => {},
        );
      },
      Math.max(0, left - marginMs, left / 2),
    );
    (renewal as { unref?: () => void }).unref?.();
  };
  const socket = () =>
    (ws ??= createClient({
      url: options.url.replace(/^http/, 'ws'),
      connectionParams: async () => {
        if (tokens && refusedToken !== null) await tokens.refresh(refusedToken);
        refusedToken = null;
        sentToken = await credential();
        return { authorization: `Bearer ${sentToken}` };
      },
      lazy: true,
      // graphql-ws retries a socket closed with 4403 (not one of its fatal codes): here it gets a
      // fresh token first, since the gateway closes a token's socket with 4403 once it has ended.
      retryAttempts: 5,
      on: {
        connected: () => {
          scheduleRenewal();
          options.socketEvents?.connected?.();
        },
        closed: (event) => {
          clearTimeout(renewal);
          const code = (event as { code?: number } | null)?.code;
          if (code === 4403 && tokens) refusedToken = sentToken;
          options.socketEvents?.closed?.(code);
        },
      },
      ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    }));
  const fail = (errors: readonly { message: string; extensions?: Record<string, unknown> }[]) =>
    new CallsGatewayError(errors[0]?.message ?? 'GraphQL error', errors[0]?.extensions?.code as string | undefined, errors);

  /** What names the document in a request: its registered id (documentIds), or its text. */
  const source = (document: TypedDocumentNode<unknown, never>): { documentId: string } | { query: string } => {
    const hash = options.documentIds ? (document as { __meta__?: { hash?: unknown } }).__meta__?.hash : undefined;
    return typeof hash === 'string' ? { documentId: `sha256:${hash}` } : { query: print(document) };
  };

  return {
    async request(document, variables) {
      const body = JSON.stringify({ ...source(document as never), variables });
      const post = async (bearer: string) =>
        doFetch(options.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body });
      let bearer = await credential();
      let response = await post(bearer);
      // A token refused (expired early, its key rotated): one more try with a fresh one.
      if (response.status === 401 && tokens) {
        bearer = await tokens.refresh(bearer);
        response = await post(bearer);
      }
      const result = (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
      if (result.errors?.length) throw fail(result.errors);
      return result.data as never;
    },
    subscribe(document, variables) {
      // graphql-ws sends this same payload again after a reconnect: `after` moves with the events delivered.
      // graphql-ws requires a query string: empty when the document is named by its id.
      const payload = { query: '', ...source(document as never), variables: { ...(variables ?? {}) } as Record<string, unknown> };
      const resumable = /\$after\b/.test(print(document));
      const iterator = socket().iterate(payload);
      return {
        async next() {
          const result = await iterator.next();
          if (result.done) return { done: true, value: undefined };
          if (result.value.errors?.length) throw fail(result.value.errors as never);
          const data = result.value.data as Record<string, { cursor?: unknown } | null> | undefined;
          if (resumable && data) {
            for (const field of Object.values(data)) if (typeof field?.cursor === 'string') payload.variables.after = field.cursor;
          }
          return { done: false, value: data as never };
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
    async follow(read, calls, variables) {
      let asOf: string | null | undefined;
      // asOf is null only while the log is far behind: ask again a moment later.
      for (let attempt = 0; !asOf; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        const minute = 60_000;
        const now = Date.now();
        asOf = (await this.request(LogPositionDocument, { from: new Date(now - minute).toISOString(), to: new Date(now + minute).toISOString() })).callStats
          .asOf;
        if (!asOf && attempt >= 10) throw new CallsGatewayError('The event log is too far behind to follow from', 'UNAVAILABLE', []);
      }
      const list = await read();
      const versions = new Map(calls(list).map((call) => [call.id, call.version]));
      const source = this.subscribe(CallStatusDocument, { ...(variables ?? {}), after: asOf });
      const events: AsyncIterableIterator<CallStatusSubscription> = {
        async next() {
          for (;;) {
            const item = await source.next();
            if (item.done) return item;
            const { sequence, call } = item.value.callStatus;
            if (sequence <= (versions.get(call.id) ?? 0)) continue;
            versions.set(call.id, sequence);
            return item;
          }
        },
        async return() {
          return source.return!();
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      return { list, events };
    },
    async close() {
      clearTimeout(renewal);
      await ws?.dispose();
    },
  };
}
