import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, newApp, rowCounts, type TestApp, type TestGateway } from './helpers/gateway.js';
import { runCli } from './helpers/cli.js';
import { connectRaw } from './helpers/ws.js';

const KEYS = `k1:${'c'.repeat(40)}`;
const ALLOWED = 'http://127.0.0.2:5173';
const THEIRS = 'https://other.example';
const FOREIGN = 'https://evil.example';

let gw: TestGateway;
let app: TestApp;
let other: TestApp;
const cli = (args: string[]) => runCli(args, { DATABASE_URL: gw.databaseUrl, ACCESS_TOKEN_KEYS: KEYS });

beforeAll(async () => {
  // AUTH_CACHE_TTL_MS 0: origins set by the CLI (another process) are seen at once.
  gw = await bootGateway({ simulator: 'frozen', env: { ACCESS_TOKEN_KEYS: KEYS, AUTH_CACHE_TTL_MS: '0' } });
  app = await newApp(gw.admin, 'cors');
  other = await newApp(gw.admin, 'cors other');
});
afterAll(() => gw?.stop());

function preflight(origin: string): Promise<Response> {
  return fetch(gw.url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
}

describe('CORS per application', () => {
  it('apps origins sets and reads the origins (normalized), refusing what is not an origin', async () => {
    const set = await cli(['apps', 'origins', '--app', app.id, '--set', `${ALLOWED}/,HTTP://127.0.0.2:5173,https://App.Example.com:443`, '--json']);
    expect(set.stderr).toBe('');
    expect(JSON.parse(set.stdout)).toEqual({ appId: app.id, origins: [ALLOWED, 'https://app.example.com'] });
    const read = await cli(['apps', 'origins', '--app', app.id, '--json']);
    expect(JSON.parse(read.stdout).origins).toEqual([ALLOWED, 'https://app.example.com']);
    for (const bad of ['https://a.example/path', 'ftp://a.example']) {
      const refused = await cli(['apps', 'origins', '--app', app.id, '--set', bad]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: /);
    }
    expect(JSON.parse((await cli(['apps', 'origins', '--app', app.id, '--json'])).stdout).origins).toEqual([ALLOWED, 'https://app.example.com']);
    expect((await cli(['apps', 'origins', '--app', 'app_nope', '--json'])).code).toBe(1);
    await cli(['apps', 'origins', '--app', other.id, '--set', THEIRS]);
  });

  it('a preflight from an allowed origin gets the allow headers; a foreign origin gets none', async () => {
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization.*content-type|content-type.*authorization/);
    expect(Number(allowed.headers.get('access-control-max-age'))).toBeGreaterThan(0);
    expect(allowed.headers.get('vary')).toContain('Origin');
    for (const origin of [FOREIGN, 'null', 'http://127.0.0.2:5174', `${ALLOWED}/x`]) {
      const refused = await preflight(origin);
      expect(refused.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(refused.headers.get('access-control-allow-methods'), origin).toBeNull();
    }
  });

  it("a request from another origin runs only if the key's application allows it: else 403 and nothing runs", async () => {
    const token = (await cli(['tokens', 'create', '--app', app.id, '--mode', 'test', '--scope', 'CALLS_READ,CALLS_CREATE', '--json'])).stdout;
    const { token: bearer } = JSON.parse(token) as { token: string };
    const post = (origin: string | null, query: string, variables: Record<string, unknown> = {}) =>
      fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}`, ...(origin ? { origin } : {}) },
        body: JSON.stringify({ query, variables }),
      });
    const list = await post(ALLOWED, `{ calls(first: 1) { nodes { id } } }`);
    expect(list.status).toBe(200);
    expect(list.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(list.headers.get('access-control-expose-headers')).toContain('retry-after');
    // Another application's origin passes the preflight, but not this application's check.
    const before = await rowCounts(gw.database, app.id);
    const create = `mutation($input: CreateCallInput!) { createCall(input: $input) { call { id } } }`;
    const refused = await post(THEIRS, create, { input: { from: app.number, to: '+15005550001' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    const foreign = await post(FOREIGN, create, { input: { from: app.number, to: '+15005550001' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(await rowCounts(gw.database, app.id)).toEqual(before);
    // The gateway's own origin (its dashboard) and clients that send no Origin are not cross-origin.
    const own = new URL(gw.url).origin;
    expect((await post(own, `{ calls(first: 1) { nodes { id } } }`)).status).toBe(200);
    expect((await post(null, `{ calls(first: 1) { nodes { id } } }`)).status).toBe(200);
    // The secret key from a browser origin is held to the same rule.
    const keyed = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.testKey}`, origin: THEIRS },
      body: JSON.stringify({ query: `{ calls(first: 1) { nodes { id } } }` }),
    });
    expect(keyed.status).toBe(403);
    // GET (Apollo's path) too.
    const get = await fetch(`${gw.url}?query=${encodeURIComponent('{ calls(first: 1) { nodes { id } } }')}`, {
      headers: { authorization: `Bearer ${bearer}`, origin: THEIRS, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(403);
  });

  it('WebSocket upgrades check Origin: a foreign one is refused at the upgrade, another application’s closes 4403, an allowed one connects', async () => {
    const { token } = JSON.parse((await cli(['tokens', 'create', '--app', app.id, '--mode', 'test', '--scope', 'STATUS_SUBSCRIBE', '--json'])).stdout) as {
      token: string;
    };
    const params = { authorization: `Bearer ${token}` };
    await expect(connectRaw(gw.wsUrl, params, { headers: { origin: FOREIGN } })).rejects.toThrow(/403/);
    expect(await connectRaw(gw.wsUrl, params, { headers: { origin: THEIRS } })).toMatchObject({ acked: false, closeCode: 4403 });
    const ok = await connectRaw(gw.wsUrl, params, { headers: { origin: ALLOWED } });
    expect(ok.acked).toBe(true);
    ok.socket.close();
    const plain = await connectRaw(gw.wsUrl, params);
    expect(plain.acked).toBe(true);
    plain.socket.close();
  });
});

/** A preflight sent from the loopback address `from` (the gateway sees it as the client's address). */
function preflightFrom(url: string, origin: string, from: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'OPTIONS',
      localAddress: from,
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    request.once('error', reject);
    request.once('response', (response) => {
      response.resume();
      resolve(response.headers['access-control-allow-origin'] as string | undefined);
    });
    request.end();
  });
}

describe('GET /recordings/{id}: the same origin rules as /graphql', () => {
  it('a preflight from an allowed origin is answered; a download from it carries the CORS headers; another application’s origin is refused (403)', async () => {
    await cli(['apps', 'origins', '--app', app.id, '--set', ALLOWED]);
    await cli(['apps', 'origins', '--app', other.id, '--set', THEIRS]);
    const { token } = JSON.parse((await cli(['tokens', 'create', '--app', app.id, '--mode', 'test', '--scope', 'CALLS_READ', '--json'])).stdout) as {
      token: string;
    };
    const url = `${new URL(gw.url).origin}/recordings/rec_${'A'.repeat(27)}`;
    const pre = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    // No such recording: the answer (404) is readable by the page, with its code.
    const fromAllowed = await fetch(url, { headers: { origin: ALLOWED, authorization: `Bearer ${token}` } });
    expect(fromAllowed.status).toBe(404);
    expect(fromAllowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(((await fromAllowed.json()) as any).errors[0].extensions.code).toBe('RECORDING_NOT_FOUND');
    const fromTheirs = await fetch(url, { headers: { origin: THEIRS, authorization: `Bearer ${token}` } });
    expect(fromTheirs.status).toBe(403);
    expect(((await fromTheirs.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    const foreign = await fetch(url, { method: 'OPTIONS', headers: { origin: FOREIGN, 'access-control-request-method': 'GET' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('origins no application allows, per client address (AUTH_FAILURES_PER_MINUTE)', () => {
  let capped: TestGateway;
  let capApp: TestApp;
  beforeAll(async () => {
    capped = await bootGateway({ simulator: 'frozen', env: { ACCESS_TOKEN_KEYS: KEYS, AUTH_FAILURES_PER_MINUTE: '5' }, shareDatabaseWith: gw });
    capApp = await newApp(capped.admin, 'cors capped');
  });
  afterAll(() => capped?.stop());

  it('past the limit an address gets no lookup for an origin not remembered (preflight and upgrade); remembered ones and other addresses are answered', async () => {
    const known = 'http://127.0.0.2:7001';
    const later = 'http://127.0.0.2:7002';
    const laterWs = 'http://127.0.0.2:7003';
    await capped.admin.setOrigins(capApp.id, [known, later, laterWs]);
    expect(await preflightFrom(capped.url, known, '127.0.0.1')).toBe(known);
    for (let i = 0; i < 5; i++) expect(await preflightFrom(capped.url, `https://made-up-${i}.example`, '127.0.0.1')).toBeUndefined();
    // The sixth origin no one has asked about yet is refused to this address without a lookup,
    // though its application allows it ...
    expect(await preflightFrom(capped.url, later, '127.0.0.1')).toBeUndefined();
    await expect(connectRaw(capped.wsUrl, { authorization: `Bearer ${capApp.testKey}` }, { headers: { origin: laterWs } })).rejects.toThrow(/403/);
    // ... while the remembered answer still holds for it, and another address is answered.
    expect(await preflightFrom(capped.url, known, '127.0.0.1')).toBe(known);
    expect(await preflightFrom(capped.url, later, '127.0.0.4')).toBe(later);
    // Once answered for another address, the origin is remembered: this one gets it too.
    expect(await preflightFrom(capped.url, later, '127.0.0.1')).toBe(later);
  });
});
