import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessScope, AccessTokens } from '../src/domain/access-tokens.js';
import { parseAccessTokenKeys } from '../src/shared/access-token-keys.js';
import { bootGateway, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';

/**
 * The typed client as its users get it: `npm pack` of the workspace package (packages/client),
 * installed into a scratch project outside this repository with its own dependencies, then used
 * from plain Node against a running gateway: a service with the secret key, and a browser-style
 * caller whose fetchToken hands out tokens that end after a few seconds.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEYS = `k1:${'p'.repeat(40)}`;

let gw: TestGateway;
let app: TestApp;
let scratch: string;
let tarball: string;
let tokenServer: http.Server;
let tokenUrl: string;
let fetched = 0;

beforeAll(async () => {
  // ≈0.75 s a call: the service example subscribes (by callId) while its call still rings.
  gw = await bootGateway({ config: { simulatorTimeScale: 0.05 }, env: { ACCESS_TOKEN_KEYS: KEYS, AUTH_CACHE_TTL_MS: '200', WS_KEY_RECHECK_MS: '200' } });
  app = await newApp(gw.admin, 'client package');
  const [row] = await gw.database.sql.query<{ id: string }>(`SELECT id FROM api_key WHERE app_id = $1 AND mode = 'test'`, [app.id]);
  // The caller's backend: mints a token that has 4 s left (issued 56 s ago with the 60 s minimum).
  const signer = new AccessTokens(parseAccessTokenKeys(KEYS));
  tokenServer = http.createServer((_req, res) => {
    fetched++;
    void signer
      .issue(
        { appId: app.id, mode: 'test', keyId: row!.id },
        { scopes: [AccessScope.CALLS_READ, AccessScope.STATUS_SUBSCRIBE, AccessScope.CALLS_CREATE], ttlSeconds: 60 },
        new Date(Date.now() - 56_000),
      )
      .then(({ token }) => res.end(token));
  });
  await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
  tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;

  scratch = mkdtempSync(path.join(tmpdir(), 'calls-client-'));
  const packed = await run('npm', ['pack', '--workspace', 'packages/client', '--pack-destination', scratch, '--json'], { cwd: ROOT });
  tarball = path.join(scratch, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'graphql@16', 'ws@8'], { cwd: scratch });
}, 180_000);
afterAll(async () => {
  tokenServer?.close();
  await gw?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const SERVICE = `
import WebSocket from 'ws';
import { CallStatusDocument, CreateCallDocument, createCallsClient } from '@calls-gateway/client';
const [url, apiKey, from] = process.argv.slice(2);
const client = createCallsClient({ url, apiKey, webSocketImpl: WebSocket });
const { createCall } = await client.request(CreateCallDocument, { input: { from, to: '+15005550001', metadata: { orderId: 'A-17' } } });
const statuses = [];
for await (const { callStatus } of client.subscribe(CallStatusDocument, { callId: createCall.call.id })) {
  statuses.push(callStatus.status);
  if (callStatus.status === 'COMPLETED') break;
}
await client.close();
console.log(JSON.stringify({ statuses }));
`;

const BROWSER_LIKE = `
import WebSocket from 'ws';
import { CallStatusDocument, CallsDocument, CreateCallDocument, createCallsClient } from '@calls-gateway/client';
const [url, tokenUrl, from] = process.argv.slice(2);
const sockets = { connected: 0, closed: [] };
const client = createCallsClient({
  url,
  webSocketImpl: WebSocket,
  refreshBeforeSeconds: 2,
  fetchToken: () => fetch(tokenUrl).then((r) => r.text()),
  socketEvents: { connected: () => sockets.connected++, closed: (code) => sockets.closed.push(code) },
});
const events = [];
const done = new Set();
const live = (async () => {
  for await (const { callStatus } of client.subscribe(CallStatusDocument, {})) {
    events.push({ id: callStatus.id, call: callStatus.call.id, status: callStatus.status });
    if (callStatus.status === 'COMPLETED') done.add(callStatus.call.id);
  }
})();
const until = async (check) => { while (!check()) await new Promise((r) => setTimeout(r, 50)); };
const place = async () => (await client.request(CreateCallDocument, { input: { from, to: '+15005550001' } })).createCall.call.id;
const first = await place();
await until(() => done.has(first));
// Past the first token's end: the client has replaced the socket before (4499, its own), and
// sends a fresh token over HTTP.
await new Promise((r) => setTimeout(r, 4500));
const second = await place();
await until(() => done.has(second));
const { calls } = await client.request(CallsDocument, { first: 10 });
await client.close();
await live.catch(() => {});
console.log(JSON.stringify({ first, second, events, sockets, listed: calls.nodes.map((call) => call.id) }));
`;

const TYPED = `
import { CallsDocument, createCallsClient, type CallStatus } from '@calls-gateway/client';
const client = createCallsClient({ url: 'http://127.0.0.1:1/graphql', fetchToken: async () => 'token' });
export async function count(): Promise<number> {
  const { calls } = await client.request(CallsDocument, { first: 1 });
  const status: CallStatus | undefined = calls.nodes[0]?.status;
  // @ts-expect-error: a field the schema does not have
  void calls.nodes[0]?.nope;
  // @ts-expect-error: a variable of the wrong type
  await client.request(CallsDocument, { first: 'one' });
  return calls.totalCount + (status ? 1 : 0);
}
`;

describe('the client package (npm pack, installed elsewhere)', () => {
  it('ships ESM and type declarations only, and depends on nothing of the gateway', () => {
    const manifest = JSON.parse(readFileSync(path.join(scratch, 'node_modules/@calls-gateway/client/package.json'), 'utf8'));
    expect(manifest.type).toBe('module');
    expect(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).sort()).toEqual([
      '@graphql-typed-document-node/core',
      'graphql',
      'graphql-ws',
    ]);
    const installed = readFileSync(path.join(scratch, 'node_modules/@calls-gateway/client/dist/index.js'), 'utf8');
    expect(installed).not.toMatch(/from '\.\.\/\.\.\/|src\/domain|calls-gateway'/);
    expect(readFileSync(path.join(scratch, 'node_modules/@calls-gateway/client/dist/index.d.ts'), 'utf8')).toContain('fetchToken');
  });

  it('type-checks a TypeScript consumer against its declarations (and catches wrong fields and variables)', async () => {
    writeFileSync(path.join(scratch, 'typed.ts'), TYPED);
    writeFileSync(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2023', 'DOM'], types: [] },
        files: ['typed.ts'],
      }),
    );
    await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', scratch], { cwd: scratch });
  }, 60_000);

  it('a Node service with the secret key places a call and follows it to COMPLETED', async () => {
    writeFileSync(path.join(scratch, 'service.mjs'), SERVICE);
    const { stdout } = await run(process.execPath, ['service.mjs', gw.url, app.testKey, app.number], { cwd: scratch, timeout: 30_000 });
    const { statuses } = JSON.parse(stdout) as { statuses: string[] };
    expect(statuses).toContain('IN_PROGRESS');
    expect(statuses.at(-1)).toBe('COMPLETED');
  }, 40_000);

  it('with fetchToken, HTTP and the live subscription carry on past each token’s end, with a fresh token, and miss nothing', async () => {
    writeFileSync(path.join(scratch, 'browser-like.mjs'), BROWSER_LIKE);
    fetched = 0;
    const { stdout } = await run(process.execPath, ['browser-like.mjs', gw.url, tokenUrl, app.number], { cwd: scratch, timeout: 40_000 });
    const result = JSON.parse(stdout) as {
      first: string;
      second: string;
      events: { id: string; call: string; status: string }[];
      sockets: { connected: number; closed: number[] };
      listed: string[];
    };
    // Tokens live 4 s: the run took several. Before each token's end the client fetched a fresh
    // one and replaced its socket (4499, graphql-ws's terminate); the gateway never had to close
    // one for an expired token (4403).
    expect(fetched).toBeGreaterThanOrEqual(2);
    expect(result.sockets.closed).toContain(4499);
    expect(result.sockets.closed).not.toContain(4403);
    expect(result.sockets.connected).toBeGreaterThanOrEqual(2);
    // The first call may be placed before the (lazy) subscription is live; the second is placed
    // after the socket was replaced with one on a fresh token.
    expect(result.events.filter((event) => event.call === result.first).at(-1)?.status).toBe('COMPLETED');
    expect(result.events.filter((event) => event.call === result.second).map((event) => event.status)).toEqual([
      'INITIATED',
      'RINGING',
      'IN_PROGRESS',
      'COMPLETED',
    ]);
    expect(new Set(result.events.map((event) => event.id)).size).toBe(result.events.length);
    expect(result.listed).toEqual(expect.arrayContaining([result.first, result.second]));
  }, 60_000);
});
