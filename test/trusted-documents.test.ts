import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, newApp, rawGql, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/cli.js';
import { connectRaw } from './helpers/ws.js';
import { documentIdOf } from '../src/domain/trusted-documents.js';

/**
 * Trusted documents (issue 25, part 2) through the public API: documents registered with the CLI
 * from a manifest, named by documentId over POST, GET and WebSocket; ad-hoc documents refused
 * unread for access tokens (TRUSTED_FOR_TOKENS) or everyone (TRUSTED_ONLY); the secret key still
 * sends its own under TRUSTED_FOR_TOKENS. The client package's own manifest is exercised from a
 * browser page in test/browser/cross-origin.test.ts.
 */
const KEYS = `k1:${'d'.repeat(40)}`;
const LIST = 'query Calls($first: Int) { calls(first: $first) { nodes { id status } } }';
const CREATE = 'mutation Create($input: CreateCallInput!) { createCall(input: $input) { call { id } userErrors { code } } }';
const STATUS = 'subscription Status($callId: ID) { callStatus(callId: $callId) { sequence call { id status } } }';
const CREATE_TOKEN = `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token userErrors { code } } }`;
const AD_HOC = '{ calls(first: 1) { nodes { id } } }';

let gw: TestGateway;
let app: TestApp;
let token: string;
let dir: string;
const cli = (args: string[]) => runCli(args, { DATABASE_URL: gw.databaseUrl, ACCESS_TOKEN_KEYS: KEYS });
const manifest = (name: string, documents: Record<string, unknown>) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(documents));
  return path;
};
const id = documentIdOf;

async function get(key: string, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gw.url}?${new URLSearchParams(params)}`, {
    headers: { authorization: `Bearer ${key}`, 'apollo-require-preflight': 'true' },
  });
  return { status: response.status, body: await response.json() };
}

/**
 * One operation over a raw graphql-transport-ws socket (the graphql-ws client insists on a query
 * string, which the proposal's form leaves out): its first result, or its errors.
 */
async function overSocket(key: string, payload: Record<string, unknown>): Promise<{ data?: any; errors?: any[] }> {
  const { socket, acked } = await connectRaw(gw.wsUrl, { authorization: `Bearer ${key}` });
  expect(acked).toBe(true);
  try {
    return await new Promise((resolve, reject) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'next') resolve(message.payload);
        if (message.type === 'error') resolve({ errors: message.payload });
      });
      socket.once('close', (code) => reject(new Error(`socket closed ${code}`)));
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload }));
    });
  } finally {
    socket.removeAllListeners('close');
    socket.close();
  }
}

beforeAll(async () => {
  // AUTH_CACHE_TTL_MS 0: the policy the CLI (another process) sets is seen at once.
  gw = await bootGateway({ simulator: 'frozen', env: { ACCESS_TOKEN_KEYS: KEYS, AUTH_CACHE_TTL_MS: '0' } });
  app = await newApp(gw.admin, 'trusted documents');
  dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
  const minted = await rawGql(gw.url, app.testKey, {
    query: CREATE_TOKEN,
    variables: { input: { scopes: ['CALLS_READ', 'CALLS_CREATE', 'STATUS_SUBSCRIBE'] } },
  });
  token = minted.data.createAccessToken.token;
  expect(token).toMatch(/^eyJ/);
});
afterAll(() => gw?.stop());

describe('documents push and list', () => {
  it('refuses a manifest with a wrong id, an invalid or over-limit document, or no operation, and registers nothing', async () => {
    const aliased = `{ ${Array.from({ length: 21 }, (_, i) => `a${i}: calls(first: 1) { nodes { id } }`).join(' ')} }`;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ [id(LIST).slice(7)]: LIST, ['0'.repeat(64)]: AD_HOC }, /not the SHA-256 of its document/],
      [{ [id('{ nope }')]: '{ nope }' }, /Cannot query field "nope"/],
      [{ [id(aliased)]: aliased }, /Query validation error/],
      [{ [id('fragment F on Call { id }')]: 'fragment F on Call { id }' }, /no operation|never used/],
      [{ 'md5:abc': LIST }, /sha256:<64 lowercase hex digits>/],
      [{ [id(LIST)]: 42 }, /not a non-empty string/],
      [[LIST] as never, /JSON object/],
    ];
    for (const [documents, message] of cases) {
      const result = await cli(['documents', 'push', '--app', app.id, manifest('bad.json', documents), '--json']);
      expect(result.code, JSON.stringify(documents).slice(0, 80)).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    const listed = await cli(['documents', 'list', '--app', app.id, '--json']);
    expect(JSON.parse(listed.stdout).documents).toEqual([]);
  });

  it('registers a manifest (ids with or without sha256:), again without change, and lists it', async () => {
    const path = manifest('app.json', { [id(LIST).slice(7)]: LIST, [id(CREATE)]: CREATE, [id(STATUS).slice(7)]: STATUS });
    const pushed = await cli(['documents', 'push', '--app', app.id, path, '--json']);
    expect(pushed.stderr).toBe('');
    expect(JSON.parse(pushed.stdout)).toEqual({ appId: app.id, added: 3, unchanged: 0, removed: 0, total: 3 });
    const again = await cli(['documents', 'push', '--app', app.id, path, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, unchanged: 3, total: 3 });
    const listed = JSON.parse((await cli(['documents', 'list', '--app', app.id, '--json'])).stdout).documents as { id: string; text: string }[];
    expect(listed.map((document) => document.id).sort()).toEqual([id(LIST), id(CREATE), id(STATUS)].sort());
    expect(listed.find((document) => document.id === id(LIST))!.text).toBe(LIST);
    expect((await cli(['documents', 'push', '--app', 'app_nope', path])).code).toBe(1);
  });

  it('keeps at most TRUSTED_DOCUMENTS_PER_APPLICATION: a push past it changes nothing; --replace drops the rest', async () => {
    const other = await newApp(gw.admin, 'trusted documents cap');
    const capped = (args: string[]) => runCli(args, { DATABASE_URL: gw.databaseUrl, TRUSTED_DOCUMENTS_PER_APPLICATION: '2' });
    expect((await capped(['documents', 'push', '--app', other.id, manifest('two.json', { [id(LIST)]: LIST, [id(CREATE)]: CREATE })])).code).toBe(0);
    const over = await capped(['documents', 'push', '--app', other.id, manifest('one.json', { [id(STATUS)]: STATUS })]);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/would have 3 documents; at most 2/);
    const tooMany = await capped([
      'documents',
      'push',
      '--app',
      other.id,
      manifest('three.json', { [id(LIST)]: LIST, [id(CREATE)]: CREATE, [id(STATUS)]: STATUS }),
    ]);
    expect(tooMany.stderr).toMatch(/at most 2/);
    const replaced = await capped(['documents', 'push', '--app', other.id, manifest('one.json', { [id(STATUS)]: STATUS }), '--replace', '--json']);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ added: 1, removed: 2, total: 1 });
  });

  it('apps documents reads and sets the policy, refusing an unknown one', async () => {
    expect(JSON.parse((await cli(['apps', 'documents', '--app', app.id, '--json'])).stdout)).toEqual({ appId: app.id, documentsPolicy: 'ANY' });
    const bad = await cli(['apps', 'documents', '--app', app.id, '--set', 'SOMETIMES']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/TRUSTED_FOR_TOKENS/);
  });
});

describe('documentId over the three transports', () => {
  it('runs a registered document by id under ANY, for the key and a token, on POST, GET and WebSocket', async () => {
    for (const key of [app.testKey, token]) {
      const post = await rawGql(gw.url, key, { documentId: id(LIST), variables: { first: 2 } });
      expect(post.errors).toBeUndefined();
      expect(post.data.calls.nodes).toEqual([]);
      const viaGet = await get(key, { documentId: id(LIST), variables: JSON.stringify({ first: 1 }) });
      expect(viaGet.status).toBe(200);
      expect(viaGet.body.data.calls.nodes).toEqual([]);
      // Without a query at all (the proposal's form), and with graphql-ws's required empty query.
      for (const payload of [{ documentId: id(LIST) }, { query: '', documentId: id(LIST) }]) {
        const socket = await overSocket(key, payload);
        expect(socket.errors).toBeUndefined();
        expect(socket.data.calls.nodes).toEqual([]);
      }
    }
  });

  it('an unknown or malformed id, or an id beside a query, is refused on each transport and runs nothing', async () => {
    const before = gw.gateway.executions;
    const unknown = id('{ calls { nodes { id } } }');
    const post = await rawGql(gw.url, token, { documentId: unknown });
    expect(post.status).toBe(404);
    expect(post.errors![0]!.extensions!.code).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    const viaGet = await get(token, { documentId: unknown });
    expect(viaGet.status).toBe(404);
    expect(viaGet.body.errors[0].extensions.code).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    const socket = await overSocket(token, { query: '', documentId: unknown });
    expect(socket.errors![0].extensions.code).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    for (const body of [{ documentId: 'sha256:XYZ' }, { documentId: id(LIST), query: LIST }]) {
      const refused = await rawGql(gw.url, token, body);
      expect(refused.status).toBe(400);
      expect(refused.errors![0]!.extensions!.code).toBe('BAD_REQUEST');
    }
    expect(gw.gateway.executions).toBe(before);
  });
});

describe('TRUSTED_FOR_TOKENS and TRUSTED_ONLY', () => {
  it('TRUSTED_FOR_TOKENS: a token runs registered documents only, refused unread elsewhere; the secret key sends its own', async () => {
    expect(JSON.parse((await cli(['apps', 'documents', '--app', app.id, '--set', 'TRUSTED_FOR_TOKENS', '--json'])).stdout).documentsPolicy).toBe(
      'TRUSTED_FOR_TOKENS',
    );
    const { parsed } = gw.gateway.documentStats;
    const executions = gw.gateway.executions;
    const adHoc = `{ calls(first: 3) { nodes { id } } }`;
    const rows = await rowCounts(gw.database, app.id);
    const post = await rawGql(gw.url, token, { query: adHoc });
    expect(post.status).toBe(403);
    expect(post.errors![0]!.extensions!.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    // A mutation sent as text changes nothing.
    const create = await rawGql(gw.url, token, { query: CREATE, variables: { input: { from: app.number, to: '+15005550001' } } });
    expect(create.errors![0]!.extensions!.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    // Apollo's automatic persisted queries: a hash without the text is no way around it either.
    const apq = await rawGql(gw.url, token, { extensions: { persistedQuery: { version: 1, sha256Hash: id(adHoc).slice(7) } } });
    expect(apq.errors![0]!.extensions!.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    const viaGet = await get(token, { query: adHoc });
    expect(viaGet.status).toBe(403);
    expect(viaGet.body.errors[0].extensions.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    const socket = await overSocket(token, { query: adHoc });
    expect(socket.errors![0].extensions.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    // Refused before parsing: no text was parsed, nothing ran, nothing was written.
    expect(gw.gateway.documentStats.parsed).toBe(parsed);
    expect(gw.gateway.executions).toBe(executions);
    expect(await rowCounts(gw.database, app.id)).toEqual(rows);

    // By id it works, mutation included, over each transport.
    const created = await rawGql(gw.url, token, { documentId: id(CREATE), variables: { input: { from: app.number, to: '+15005550001' } } });
    expect(created.data.createCall.userErrors).toEqual([]);
    const callId = created.data.createCall.call.id as string;
    expect((await get(token, { documentId: id(LIST) })).body.data.calls.nodes.map((call: { id: string }) => call.id)).toContain(callId);
    // A subscription by id is set up (its live listener registered) and sends no error.
    const live = gw.gateway.liveSubscriptions;
    const raw = (await connectRaw(gw.wsUrl, { authorization: `Bearer ${token}` })).socket;
    const frames: string[] = [];
    raw.on('message', (data) => frames.push(String(data)));
    raw.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { documentId: id(STATUS), variables: { callId } } }));
    await eventually(() => gw.gateway.liveSubscriptions > live, 5_000, 'the subscription by id to start');
    raw.close();
    expect(frames.filter((frame) => frame.includes('"error"'))).toEqual([]);

    // The secret key still sends documents of its own.
    const own = await rawGql(gw.url, app.testKey, { query: adHoc });
    expect(own.errors).toBeUndefined();
    expect((await overSocket(app.testKey, { query: adHoc })).errors).toBeUndefined();
  });

  it('TRUSTED_ONLY: the secret key too; ANY again: everyone may send text', async () => {
    await cli(['apps', 'documents', '--app', app.id, '--set', 'TRUSTED_ONLY']);
    const own = await rawGql(gw.url, app.testKey, { query: AD_HOC });
    expect(own.status).toBe(403);
    expect(own.errors![0]!.extensions!.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    expect((await overSocket(app.testKey, { query: AD_HOC })).errors![0].extensions.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    expect((await rawGql(gw.url, app.testKey, { documentId: id(LIST) })).errors).toBeUndefined();
    await cli(['apps', 'documents', '--app', app.id, '--set', 'ANY']);
    expect((await rawGql(gw.url, token, { query: AD_HOC })).errors).toBeUndefined();
  });

  it('another application cannot name this one’s documents', async () => {
    const stranger = await newApp(gw.admin, 'trusted documents stranger');
    const refused = await rawGql(gw.url, stranger.testKey, { documentId: id(CREATE), variables: { input: { from: stranger.number, to: '+15005550001' } } });
    expect(refused.errors![0]!.extensions!.code).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    expect(await rowCounts(gw.database, stranger.id)).toEqual({ calls: 0, events: 0 });
  });

  it('the client package ships a manifest whose ids are its documents’ hashes', () => {
    const shipped = JSON.parse(readFileSync(new URL('../packages/client/src/generated/persisted-documents.json', import.meta.url), 'utf8')) as Record<
      string,
      string
    >;
    expect(Object.keys(shipped).length).toBeGreaterThan(10);
    for (const [hash, text] of Object.entries(shipped)) expect(id(text)).toBe(`sha256:${hash}`);
  });
});
