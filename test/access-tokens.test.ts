import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { AccessScope, AccessTokens } from '../src/domain/access-tokens.js';
import { parseAccessTokenKeys } from '../src/shared/access-token-keys.js';
import { bootGateway, commandRowCounts, eventually, newApp, rawGql, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { collect, connectRaw, wsClient, wsRequest } from './helpers/ws.js';
import { runCli } from './helpers/cli.js';

// Two signing keys: k2 signs, k1 (the previous one) still verifies; the test signs its own
// tokens with them to make expired, tampered and unknown-key ones.
const KEYS = `k2:${'b'.repeat(40)},k1:${'a'.repeat(40)}`;
const AUTH_TTL_MS = 300;

let gw: TestGateway;
let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  gw = await bootGateway({ simulator: 'fast', env: { ACCESS_TOKEN_KEYS: KEYS, AUTH_CACHE_TTL_MS: String(AUTH_TTL_MS), WS_KEY_RECHECK_MS: '200' } });
  app = await newApp(gw.admin, 'tokens');
  other = await newApp(gw.admin, 'other');
});
afterAll(() => gw?.stop());

const CREATE_TOKEN = `mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token expiresAt userErrors { code field message } } }`;
const CREATE_CALL = `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id status metadata } userErrors { code field message } } }`;
const LIST = `query($filter: CallFilter) { calls(first: 100, filter: $filter) { nodes { id metadata } } }`;
const CALL_EVENTS = `query($id: ID!) { call(id: $id) { id events { nodes { id cursor status } } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Call { metadata } } }`;
const STATS = `query($from: DateTime!, $to: DateTime!) { callStats(from: $from, to: $to) { total { count } } }`;
const LIVE = `subscription($callId: ID, $after: String, $filter: CallFilter) {
  callStatus(callId: $callId, after: $after, filter: $filter) { id cursor status call { id metadata } }
}`;

async function mint(key: string, input: Record<string, unknown>): Promise<string> {
  const response = await rawGql(gw.url, key, { query: CREATE_TOKEN, variables: { input } });
  expect(response.errors).toBeUndefined();
  expect(response.data.createAccessToken.userErrors).toEqual([]);
  return response.data.createAccessToken.token as string;
}

async function place(key: string, from: string, customerId: string): Promise<string> {
  const response = await rawGql(gw.url, key, { query: CREATE_CALL, variables: { input: { from, to: '+15005550001', metadata: { customerId } } } });
  expect(response.data.createCall.userErrors).toEqual([]);
  return response.data.createCall.call.id as string;
}

async function keyIdOf(appId: string, mode: 'test' | 'live'): Promise<string> {
  const [row] = await gw.database.sql.query<{ id: string }>(`SELECT id FROM api_key WHERE app_id = $1 AND mode = $2 AND revoked_at IS NULL`, [appId, mode]);
  return row!.id;
}

describe('access tokens: a filter ANDed into everything', () => {
  it("a token scoped to customerId c1 sees only c1's calls over calls, call, node, events and callStatus (live and replay)", async () => {
    const token = await mint(app.testKey, { scopes: ['CALLS_READ', 'STATUS_SUBSCRIBE'], filter: { metadata: { customerId: 'c1' } }, ttlSeconds: 600 });
    const from = new Date(Date.now() - 60_000).toISOString();
    const first = await place(app.testKey, app.number, 'c1');
    // Its first event: the replay below starts after it.
    await eventually(async () => (await rawGql(gw.url, token, { query: CALL_EVENTS, variables: { id: first } })).data?.call?.events.nodes.length >= 1);
    const start = (await rawGql(gw.url, token, { query: CALL_EVENTS, variables: { id: first } })).data.call.events.nodes[0].cursor as string;

    const tokenSocket = wsClient(gw.wsUrl, token);
    const keySocket = wsClient(gw.wsUrl, app.testKey);
    const live = collect<any>(tokenSocket, LIVE, {});
    const all = collect<any>(keySocket, LIVE, {});
    await eventually(() => gw.gateway.liveSubscriptions >= 2);

    // Three other customers' calls and a second c1 call, created while both follow.
    const others = [await place(app.testKey, app.number, 'c2'), await place(app.testKey, app.number, 'c3'), await place(app.testKey, app.number, 'c4')];
    const second = await place(app.testKey, app.number, 'c1');
    const ended = (items: any[], ids: string[]) => ids.every((id) => items.some((item) => item.call.id === id && item.status === 'COMPLETED'));
    // (The first call may have ended before these two streams started: the replay below covers it.)
    await all.until((items) => ended(items, [...others, second]), 15_000);
    await live.until((items) => ended(items, [second]), 15_000);
    // The secret key saw the others' events: the token was shown none of them.
    expect(all.items.some((item) => others.includes(item.call.id))).toBe(true);
    expect(live.items.length).toBeGreaterThan(0);
    for (const item of live.items) expect(item.call.metadata).toEqual({ customerId: 'c1' });

    // Replay from the first call's first event: every later c1 event, none of the others'.
    const replay = collect<any>(tokenSocket, LIVE, { after: start });
    await replay.until((items) => ended(items, [second, first]), 15_000);
    expect(new Set(replay.items.map((item) => item.call.id))).toEqual(new Set([first, second]));
    const keyReplay = collect<any>(keySocket, LIVE, { after: start });
    await keyReplay.until((items) => ended(items, [...others, second]), 15_000);
    // One call's stream of another customer's call: nothing, not even its current state.
    const foreign = collect<any>(tokenSocket, LIVE, { callId: others[0] });
    const mine = collect<any>(tokenSocket, LIVE, { callId: first });
    await mine.until((items) => items.length === 1);
    expect(foreign.items).toEqual([]);
    for (const stream of [live, all, replay, keyReplay, foreign, mine]) stream.stop();
    await tokenSocket.dispose();
    await keySocket.dispose();

    // calls, ANDed with the caller's own filter too.
    const listed = await rawGql(gw.url, token, { query: LIST });
    expect(new Set(listed.data.calls.nodes.map((call: any) => call.id))).toEqual(new Set([first, second]));
    const narrowed = await rawGql(gw.url, token, { query: LIST, variables: { filter: { metadata: { customerId: 'c2' } } } });
    expect(narrowed.data.calls.nodes).toEqual([]);
    const byKey = await rawGql(gw.url, app.testKey, { query: LIST });
    expect(byKey.data.calls.nodes).toHaveLength(5);
    // call, node, Call.events: outside the filter is not found, as another tenant's.
    for (const id of others) {
      expect((await rawGql(gw.url, token, { query: CALL_EVENTS, variables: { id } })).data.call).toBeNull();
      expect((await rawGql(gw.url, token, { query: NODE, variables: { id } })).data.node).toBeNull();
      expect((await rawGql(gw.url, app.testKey, { query: NODE, variables: { id } })).data.node.id).toBe(id);
    }
    const events = await rawGql(gw.url, token, { query: CALL_EVENTS, variables: { id: second } });
    expect(events.data.call.events.nodes.length).toBeGreaterThanOrEqual(4);
    expect((await rawGql(gw.url, token, { query: NODE, variables: { id: first } })).data.node).toEqual({ id: first, metadata: { customerId: 'c1' } });
    // callStats counts what the token sees.
    const to = new Date(Date.now() + 60_000).toISOString();
    expect((await rawGql(gw.url, token, { query: STATS, variables: { from, to } })).data.callStats.total.count).toBe(2);
    expect((await rawGql(gw.url, app.testKey, { query: STATS, variables: { from, to } })).data.callStats.total.count).toBe(5);
  }, 60_000);

  it('a CALLS_CREATE token creates only calls its filter matches; a CALLS_COMMAND token commands only calls it sees', async () => {
    const creator = await mint(app.testKey, { scopes: ['CALLS_CREATE'], filter: { metadata: { customerId: 'c1' } } });
    const before = (await rowCounts(gw.database, app.id)).calls;
    const refused = await rawGql(gw.url, creator, {
      query: CREATE_CALL,
      variables: { input: { from: app.number, to: '+15005550002', metadata: { customerId: 'c2' } } },
    });
    expect(refused.data.createCall.call).toBeNull();
    expect(refused.data.createCall.userErrors).toEqual([
      { code: 'OUTSIDE_TOKEN_FILTER', field: ['input', 'metadata'], message: expect.stringContaining('customerId') },
    ]);
    const noMetadata = await rawGql(gw.url, creator, { query: CREATE_CALL, variables: { input: { from: app.number, to: '+15005550002' } } });
    expect(noMetadata.data.createCall.userErrors[0].code).toBe('OUTSIDE_TOKEN_FILTER');
    expect((await rowCounts(gw.database, app.id)).calls).toBe(before);
    const created = await rawGql(gw.url, creator, {
      query: CREATE_CALL,
      variables: { input: { from: app.number, to: '+15005550002', metadata: { customerId: 'c1', order: 7 } } },
    });
    expect(created.data.createCall.userErrors).toEqual([]);
    expect(created.data.createCall.call.metadata).toEqual({ customerId: 'c1', order: 7 });

    const commander = await mint(app.testKey, { scopes: ['CALLS_COMMAND'], filter: { metadata: { customerId: 'c1' } } });
    const theirs = await place(app.testKey, app.number, 'c9');
    const counts = (await commandRowCounts(gw.database, theirs)).commands;
    const hangup = await rawGql(gw.url, commander, {
      query: `mutation($id: ID!) { hangupCall(input: { callId: $id }) { call { id } userErrors { code } } }`,
      variables: { id: theirs },
    });
    expect(hangup.data.hangupCall.userErrors).toEqual([{ code: 'CALL_NOT_FOUND' }]);
    expect((await commandRowCounts(gw.database, theirs)).commands).toBe(counts);
  });
});

describe('access tokens: scopes', () => {
  it('every operation outside the scopes is FORBIDDEN and changes nothing, over HTTP and WebSocket', async () => {
    const reader = await mint(app.testKey, { scopes: ['CALLS_READ'] });
    const creator = await mint(app.testKey, { scopes: ['CALLS_CREATE'] });
    const id = await place(app.testKey, app.number, 'c1');
    // The simulator moves calls on (events); what a refusal could add is calls, commands and endpoints.
    const before = (await rowCounts(gw.database, app.id)).calls;
    const commands = (await commandRowCounts(gw.database, id)).commands;
    const endpoints = async () => (await gw.database.sql.query(`SELECT id FROM webhook_endpoint WHERE app_id = $1`, [app.id])).length;
    const endpointsBefore = await endpoints();
    const refusals: [string, string, Record<string, unknown>][] = [
      [reader, CREATE_CALL, { input: { from: app.number, to: '+15005550001' } }],
      [reader, `mutation($id: ID!) { hangupCall(input: { callId: $id }) { call { id } } }`, { id }],
      [reader, `mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hooks" }) { endpoint { id } } }`, {}],
      [reader, CREATE_TOKEN, { input: { scopes: ['CALLS_READ'] } }],
      [reader, `{ phoneNumbers { number } }`, {}],
      [creator, LIST, {}],
      // One allowed field and one refused: the whole mutation is refused before the first runs.
      [
        creator,
        `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } createWebhookEndpoint(input: { url: "http://127.0.0.1:9/h" }) { endpoint { id } } }`,
        { input: { from: app.number, to: '+15005550001' } },
      ],
      [
        creator,
        `mutation($input: CreateCallInput!) { ...Create } fragment Create on Mutation { createCall(input: $input) { call { id } } simulateInboundCall(input: { from: "+15005550009", to: "${app.number}" }) { call { id } } }`,
        { input: { from: app.number, to: '+15005550001' } },
      ],
    ];
    for (const [token, query, variables] of refusals) {
      const response = await rawGql(gw.url, token, { query, variables });
      expect(response.status, query).toBe(403);
      expect(response.data, query).toBeUndefined();
      expect(
        response.errors!.map((error) => error.extensions!.code),
        query,
      ).toEqual(['FORBIDDEN']);
    }
    // GET (answered by Apollo Server): the same refusal, from its didResolveOperation hook.
    const get = await fetch(`${gw.url}?query=${encodeURIComponent(LIST)}`, {
      headers: { authorization: `Bearer ${creator}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(403);
    expect(((await get.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    // Over WebSocket: the subscription needs STATUS_SUBSCRIBE, a read over the socket CALLS_READ.
    const socket = wsClient(gw.wsUrl, reader);
    const subscription = collect(socket, LIVE, {});
    await eventually(() => subscription.errors.length > 0);
    expect(JSON.stringify(subscription.errors)).toContain('FORBIDDEN');
    const createOverSocket = await wsRequest(wsClient(gw.wsUrl, creator), LIST).catch((errors: unknown) => ({ errors }));
    expect(JSON.stringify(createOverSocket)).toContain('FORBIDDEN');
    const read = await wsRequest(socket, `query($id: ID!) { call(id: $id) { id } }`, { id });
    expect(read.data.call.id).toBe(id);
    await socket.dispose();
    expect((await rowCounts(gw.database, app.id)).calls).toBe(before);
    expect((await commandRowCounts(gw.database, id)).commands).toBe(commands);
    expect(await endpoints()).toBe(endpointsBefore);
  });

  it('createAccessToken refuses bad input with userErrors and issues nothing', async () => {
    for (const [input, field] of [
      [{ scopes: [] }, ['input', 'scopes']],
      [{ scopes: ['CALLS_READ'], ttlSeconds: 59 }, ['input', 'ttlSeconds']],
      [{ scopes: ['CALLS_READ'], ttlSeconds: 86_401 }, ['input', 'ttlSeconds']],
      [{ scopes: ['CALLS_READ'], filter: { metadata: { blob: 'x'.repeat(3000) } } }, ['input', 'filter']],
      [{ scopes: ['CALLS_READ'], filter: { duration: { min: 5, max: 1 } } }, ['input', 'filter', 'duration']],
    ] as const) {
      const response = await rawGql(gw.url, app.testKey, { query: CREATE_TOKEN, variables: { input } });
      expect(response.data.createAccessToken.token).toBeNull();
      expect(response.data.createAccessToken.userErrors.map((error: any) => error.field)).toContainEqual(field);
    }
    const ok = await rawGql(gw.url, app.testKey, { query: CREATE_TOKEN, variables: { input: { scopes: ['CALLS_READ'] } } });
    const expiresAt = Date.parse(ok.data.createAccessToken.expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(3_590_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it('tokens create --filter reads the filter as the API does: a misspelt field or a wrong value is refused and mints nothing', async () => {
    const cli = (filter: string) =>
      runCli(['tokens', 'create', '--app', app.id, '--mode', 'test', '--scope', 'CALLS_READ', '--filter', filter, '--json'], {
        DATABASE_URL: gw.databaseUrl,
        ACCESS_TOKEN_KEYS: KEYS,
      });
    // "metdata" was signed into the token and read by nothing: the token saw every call.
    for (const [filter, why] of [
      ['{"metdata":{"customerId":"c1"}}', /metdata/],
      ['{"status":"completed"}', /status/],
      ['{"createdAfter":"yesterday"}', /createdAfter/],
      ['["COMPLETED"]', /JSON object/],
    ] as const) {
      const refused = await cli(filter);
      expect(refused.code, filter).toBe(1);
      expect(refused.stdout, filter).toBe('');
      expect(refused.stderr, filter).toMatch(why);
    }
    // GraphQL's names and DateTime strings, as in createAccessToken's variables.
    const busy = await rawGql(gw.url, app.testKey, { query: CREATE_CALL, variables: { input: { from: app.number, to: '+15005550002' } } });
    const busyId = busy.data.createCall.call.id as string;
    await eventually(async () => (await rawGql(gw.url, app.testKey, { query: `{ call(id: "${busyId}") { status } }` })).data.call.status === 'BUSY');
    const minted = await cli('{"status":["BUSY"],"createdAfter":"2020-01-01T00:00:00Z","metadata":{}}');
    expect(minted.stderr).toBe('');
    const { token } = JSON.parse(minted.stdout) as { token: string };
    const seen = await rawGql(gw.url, token, { query: `{ calls(first: 100) { nodes { id status } } }` });
    const statuses = new Set((seen.data.calls.nodes as { status: string }[]).map((call) => call.status));
    expect([...statuses]).toEqual(['BUSY']);
    expect((seen.data.calls.nodes as { id: string }[]).map((call) => call.id)).toContain(busyId);
  });
});

describe('access tokens: the same limits as keys', () => {
  it("a token has its own share of its key's rate limit: one browser exhausting it locks out neither the backend nor another token; same document limits", async () => {
    // 8 a minute for the key; each token 25% of that (2), all its tokens together 8, apart from the key's own.
    const limited = await bootGateway({ shareDatabaseWith: gw, env: { ACCESS_TOKEN_KEYS: KEYS, RATE_LIMIT_PER_MINUTE: '8' } });
    try {
      const fresh = await newApp(gw.admin, 'rate');
      const mintOn = async () =>
        (await rawGql(limited.url, fresh.testKey, { query: CREATE_TOKEN, variables: { input: { scopes: ['CALLS_READ'] } } })).data.createAccessToken
          .token as string;
      const [token, other] = [await mintOn(), await mintOn()];
      const READ = `{ calls(first: 1) { nodes { id } } }`;
      expect((await rawGql(limited.url, token, { query: READ })).status).toBe(200);
      expect((await rawGql(limited.url, token, { query: READ })).status).toBe(200);
      const over = await rawGql(limited.url, token, { query: READ });
      expect(over.status).toBe(429);
      expect(over.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
      // The backend's secret key (which minted two tokens: 2 of its 8) and the other token are still answered.
      for (let i = 0; i < 5; i++) expect((await rawGql(limited.url, fresh.testKey, { query: READ })).status).toBe(200);
      expect((await rawGql(limited.url, other, { query: READ })).status).toBe(200);
      // The key's own budget is its own: past it, the key is refused, its token's share unchanged.
      expect((await rawGql(limited.url, fresh.testKey, { query: READ })).status).toBe(200);
      expect((await rawGql(limited.url, fresh.testKey, { query: READ })).status).toBe(429);
      expect((await rawGql(limited.url, other, { query: READ })).status).toBe(200);
    } finally {
      await limited.stop();
    }
    const reader = await mint(app.testKey, { scopes: ['CALLS_READ'] });
    const aliases = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: calls(first: 1) { totalCount }`).join(' ')} }`;
    const deep = `{ calls { nodes { ${'events { nodes { call { '.repeat(4)} id ${'} } }'.repeat(4)} } } }`;
    for (const query of [aliases, deep]) {
      const response = await rawGql(gw.url, reader, { query });
      expect(response.status, query).toBe(400);
      expect(response.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
  });
});

describe('access tokens: refused credentials', () => {
  const signer = new AccessTokens(parseAccessTokenKeys(KEYS));
  const previous = new AccessTokens(parseAccessTokenKeys(`k1:${'a'.repeat(40)}`));
  const unknownKid = new AccessTokens(parseAccessTokenKeys(`k9:${'a'.repeat(40)}`));
  const READ = `{ calls(first: 1) { nodes { id } } }`;
  const expectRefused = async (token: string) => {
    const response = await rawGql(gw.url, token, { query: READ });
    expect(response.status).toBe(401);
    expect(response.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const socket = await connectRaw(gw.wsUrl, { authorization: `Bearer ${token}` });
    expect(socket).toMatchObject({ acked: false, closeCode: 4403 });
  };

  it('a token signed by the previous key (k1) still works; expired, tampered or unknown-kid tokens get 401 and 4403', async () => {
    const keyId = await keyIdOf(app.id, 'test');
    const issuer = { appId: app.id, mode: 'test' as const, keyId };
    const rotated = (await previous.issue(issuer, { scopes: [AccessScope.CALLS_READ] })).token;
    expect((await rawGql(gw.url, rotated, { query: READ })).status).toBe(200);
    expect(await connectRaw(gw.wsUrl, { authorization: `Bearer ${rotated}` })).toMatchObject({ acked: true });

    await expectRefused((await signer.issue(issuer, { scopes: [AccessScope.CALLS_READ], ttlSeconds: 60 }, new Date(Date.now() - 61_000))).token);
    await expectRefused((await unknownKid.issue(issuer, { scopes: [AccessScope.CALLS_READ] })).token);
    // Tampered: another filter (none) and more scopes, under the original signature.
    const genuine = (await signer.issue(issuer, { scopes: [AccessScope.CALLS_READ], filter: { metadata: { customerId: 'c1' } } })).token;
    const [header, payload, signature] = genuine.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    delete claims.flt;
    claims.scp = ['CALLS_COMMAND', 'CALLS_CREATE', 'CALLS_READ', 'STATUS_SUBSCRIBE'];
    await expectRefused(`${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`);
    // alg "none" is never accepted.
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'k2', typ: 'JWT' })).toString('base64url');
    await expectRefused(`${none}.${payload}.`);
    await expectRefused(`${none}.${payload}.${signature}`);
  });

  it("a token of another application sees none of this one's calls, and one claiming this application with the other's key is refused", async () => {
    const mine = await place(app.testKey, app.number, 'c1');
    const theirs = await mint(other.testKey, { scopes: ['CALLS_READ'] });
    expect((await rawGql(gw.url, theirs, { query: CALL_EVENTS, variables: { id: mine } })).data.call).toBeNull();
    expect((await rawGql(gw.url, theirs, { query: LIST })).data.calls.nodes).toEqual([]);
    // A token naming this application but minted with the other application's key.
    const forged = await signer.issue({ appId: app.id, mode: 'test', keyId: await keyIdOf(other.id, 'test') }, { scopes: [AccessScope.CALLS_READ] });
    await expectRefused(forged.token);
    // A test-mode token claiming live mode with the test key.
    await expectRefused(
      (await signer.issue({ appId: app.id, mode: 'live', keyId: await keyIdOf(app.id, 'test') }, { scopes: [AccessScope.CALLS_READ] })).token,
    );
  });

  it('in production without ACCESS_TOKEN_KEYS, no token is issued (ACCESS_TOKENS_NOT_CONFIGURED) and none is accepted', async () => {
    // A DATA_DIR without access-token.key (the project's .data has one, made by development starts).
    const dataDir = mkdtempSync(path.join(tmpdir(), 'no-token-key-'));
    const bare = await bootGateway({ shareDatabaseWith: gw, config: { production: true, accessTokenKeys: null, dataDir } });
    try {
      const refused = await rawGql(bare.url, app.testKey, { query: CREATE_TOKEN, variables: { input: { scopes: ['CALLS_READ'] } } });
      expect(refused.data.createAccessToken).toMatchObject({ token: null, userErrors: [{ code: 'ACCESS_TOKENS_NOT_CONFIGURED' }] });
      const token = await mint(app.testKey, { scopes: ['CALLS_READ'] });
      expect((await rawGql(bare.url, token, { query: READ })).status).toBe(401);
      expect((await rawGql(gw.url, token, { query: READ })).status).toBe(200);
      expect(existsSync(path.join(dataDir, 'access-token.key'))).toBe(false);
    } finally {
      await bare.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("revoking the issuing key ends its tokens (HTTP 401) and their open subscriptions (4403) within the key cache's bound", async () => {
    const revoked = await newApp(gw.admin, 'revoked');
    const keyId = await keyIdOf(revoked.id, 'test');
    const token = await mint(revoked.testKey, { scopes: ['CALLS_READ', 'STATUS_SUBSCRIBE'] });
    expect((await rawGql(gw.url, token, { query: READ })).status).toBe(200);
    const socket = new WebSocket(gw.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const acked = new Promise<void>((resolve) => socket.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve()));
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    await acked;
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: LIVE, variables: {} } }));
    await eventually(() => gw.gateway.liveSubscriptions >= 1);
    const revokedAt = Date.now();
    await gw.admin.revokeKey(keyId);
    expect(await closed).toBe(4403);
    expect(Date.now() - revokedAt).toBeLessThan(AUTH_TTL_MS + 200 + 2_000);
    const response = await rawGql(gw.url, token, { query: READ });
    expect(response.status).toBe(401);
  });
});
