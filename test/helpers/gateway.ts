import { inject } from 'vitest';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { AdminStore, AdminError } from '../../src/db/admin-store.js';
import { ProviderRegistry, type ChannelProvider } from '../../src/providers/channel-provider.js';
import { SimulatorProvider } from '../../src/providers/simulator/simulator-provider.js';
import { startGateway, type Gateway } from '../../src/server/app.js';
import { silentLogger } from '../../src/server/logger.js';
import { Channel, type Call } from '../../src/domain/call.js';

export interface TestGateway {
  url: string;
  wsUrl: string;
  gateway: Gateway;
  database: Database;
  admin: AdminStore;
  /** Calls placed through the live test provider, in order. */
  livePlaced: Call[];
  stop(): Promise<void>;
}

/**
 * Stands in for a configured live provider (the real ones talk to Telnyx, LiveKit and Meta):
 * it records what it is asked to place, so tests can make live-mode calls and check isolation.
 */
export class RecordingLiveProvider implements ChannelProvider {
  readonly name = 'recording-live';
  constructor(readonly placed: Call[]) {}
  async placeCall(call: Call): Promise<void> {
    this.placed.push(call);
  }
}

export function databaseUrl(): string {
  return inject('databaseUrl');
}

/** Boots the real gateway (HTTP + WebSocket on a free port) against the test database. */
export async function bootGateway(options: { config?: Partial<Config>; liveProvider?: boolean } = {}): Promise<TestGateway> {
  const database = await openDatabase(databaseUrl(), { poolSize: 5, migrate: false });
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', databaseUrl: databaseUrl(), ...options.config });
  const livePlaced: Call[] = [];
  const live = new RecordingLiveProvider(livePlaced);
  const providers = new ProviderRegistry({
    test: new SimulatorProvider(),
    live: options.liveProvider ? { [Channel.PSTN]: live, [Channel.WEBRTC]: live, [Channel.WHATSAPP]: live } : {},
  });
  const gateway = await startGateway(config, { database, providers, logger: silentLogger });
  return {
    url: gateway.url,
    wsUrl: gateway.wsUrl,
    gateway,
    database,
    admin: new AdminStore(database.orm.em),
    livePlaced,
    async stop() {
      await gateway.stop();
      await database.close();
    },
  };
}

export interface TestApp {
  id: string;
  testKey: string;
  liveKey: string;
  number: string;
}

/** A random possible US number in the 555 range, unique enough for one test run. */
export function randomNumber(): string {
  return `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/** A new application with its keys and one assigned number. */
export async function newApp(admin: AdminStore, name = 'test app'): Promise<TestApp> {
  const app = await admin.createApp(name);
  for (;;) {
    const number = randomNumber();
    try {
      await admin.assignNumber(app.id, number);
      return { id: app.id, testKey: app.testKey, liveKey: app.liveKey, number };
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
    }
  }
}

export interface GqlResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

/** One GraphQL request over HTTP, typed by the generated document. */
export async function gql<TData, TVars>(
  url: string,
  key: string | null,
  document: TypedDocumentNode<TData, TVars>,
  variables?: TVars,
): Promise<GqlResponse<TData>> {
  return rawGql(url, key, { query: print(document), variables });
}

export async function rawGql<T = any>(url: string, key: string | null, body: unknown): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await response.json()) as Omit<GqlResponse<T>, 'status'>;
  return { status: response.status, ...json };
}

/** Rows an application has in the call tables, for "nothing was persisted" checks. */
export async function rowCounts(database: Database, appId: string): Promise<{ calls: number; events: number }> {
  const [row] = await database.sql.query<{ calls: string; events: string }>(
    `SELECT (SELECT count(*) FROM call WHERE app_id = $1) AS calls, (SELECT count(*) FROM call_event WHERE app_id = $1) AS events`,
    [appId],
  );
  return { calls: Number(row!.calls), events: Number(row!.events) };
}
