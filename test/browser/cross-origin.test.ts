/// <reference lib="dom" />
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { bootGateway, eventually, gql, listenersRegistered, newApp, rawGql, type TestApp, type TestGateway } from '../helpers/gateway.js';
import { CreateCallDocument } from '../gql/graphql.js';
import { existsSync } from 'node:fs';
import { CHROMIUM } from '../helpers/global-setup.js';
import { build } from 'vite';
import { documentsOfManifest } from '../../src/domain/trusted-documents.js';
import manifest from '../../packages/client/src/generated/persisted-documents.json' with { type: 'json' };

const HAVE_CHROMIUM = existsSync(CHROMIUM);

/**
 * A frontend on its own origin (another loopback address and port) that lists and follows calls
 * with an access token, in real Chromium: the CORS preflight, the allow-origin headers and the
 * WebSocket's Origin check are the browser's, not a test's imitation of them.
 */
/** Both pages' start: the gateway's URL, the token from the page's hash, and a row per call with its status. */
const PAGE_START = (gatewayUrl: string) => `  const gateway = ${JSON.stringify(gatewayUrl)};
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const state = document.getElementById('state');
  const show = (call) => {
    let row = document.querySelector('tr[data-id="' + call.id + '"]');
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = call.id;
      document.querySelector('#calls tbody').append(row);
    }
    row.dataset.status = call.status;
    row.textContent = call.id + ' ' + call.status;
  };
`;

const PAGE = (gatewayUrl: string) => `<!doctype html>
<html><body>
<p id="state">starting</p>
<table id="calls"><tbody></tbody></table>
<script type="module">
${PAGE_START(gatewayUrl)}  try {
    const response = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query: '{ calls(first: 50) { nodes { id status } } }' }),
    });
    const body = await response.json();
    for (const call of body.data.calls.nodes) show(call);
    const socket = new WebSocket(gateway.replace(/^http/, 'ws'), 'graphql-transport-ws');
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + token } }));
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { callStatus { status call { id status } } }' } }));
        state.textContent = 'following';
      }
      if (frame.type === 'next' && frame.payload.data) show(frame.payload.data.callStatus.call);
    };
    socket.onclose = (event) => (state.textContent = 'closed ' + event.code);
  } catch (error) {
    state.textContent = 'failed: ' + error.message;
  }
</script>
</body></html>`;

/**
 * The same kind of frontend built on the client package (bundled for the browser by Vite), sending
 * its operations by id (`documentIds: true`) to an application that takes only registered
 * documents from access tokens; then the same token's documents of its own, over fetch and a
 * WebSocket, each refused.
 */
const CLIENT_PAGE = (gatewayUrl: string) => `<!doctype html>
<html><body>
<p id="state">starting</p>
<p id="adhoc-http"></p>
<p id="adhoc-ws"></p>
<table id="calls"><tbody></tbody></table>
<script type="module">
  import { createCallsClient, CallsDocument } from '/client.js';
${PAGE_START(gatewayUrl)}  try {
    const client = createCallsClient({ url: gateway, fetchToken: async () => token, documentIds: true });
    const { list, events } = await client.follow(() => client.request(CallsDocument, { first: 50 }), (page) => page.calls.nodes);
    for (const call of list.calls.nodes) show(call);
    state.textContent = 'following';
    (async () => {
      for await (const event of events) show(event.callStatus.call);
    })().catch((error) => (state.textContent = 'failed: ' + error.message));
    const adHoc = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query: '{ calls(first: 5) { nodes { id } } }' }),
    });
    document.getElementById('adhoc-http').textContent = adHoc.status + ' ' + (await adHoc.json()).errors[0].extensions.code;
    const socket = new WebSocket(gateway.replace(/^http/, 'ws'), 'graphql-transport-ws');
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + token } }));
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { callStatus { call { id } } }' } }));
      if (frame.type === 'error') document.getElementById('adhoc-ws').textContent = frame.payload[0].extensions.code;
    };
  } catch (error) {
    state.textContent = 'failed: ' + error.message;
  }
</script>
</body></html>`;

let gw: TestGateway;
let app: TestApp;
let browser: Browser;
const servers: http.Server[] = [];

/** The client package as one ES module for the browser (its graphql and graphql-ws inside). */
async function bundleClient(): Promise<string> {
  const built = await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      write: false,
      minify: false,
      lib: { entry: new URL('../../packages/client/src/index.ts', import.meta.url).pathname, formats: ['es'], fileName: 'client' },
    },
  });
  const output = (Array.isArray(built) ? built[0] : built) as { output: { code?: string }[] };
  return output.output[0]!.code!;
}

/** Serves the page at http://<host>:<free port>/ (and the client bundle at /client.js, when given). */
async function servePage(host: string, page = PAGE, clientCode?: string): Promise<string> {
  const server = http.createServer((req, res) => {
    if (req.url === '/client.js' && clientCode) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(clientCode);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page(gw.url));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // Without Chromium the run says so once (global-setup.ts) and these skip; under CI it fails instead.
  if (!HAVE_CHROMIUM) return;
  gw = await bootGateway({ config: { simulatorTimeScale: 0.05 } });
  app = await newApp(gw.admin);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.close();
  await gw?.stop();
});

describe.skipIf(!HAVE_CHROMIUM)('a frontend on another origin, with an access token', () => {
  it("lists and follows its customer's calls, live; a page from an origin the application does not allow gets nothing", async () => {
    const allowed = await servePage('127.0.0.2');
    const refused = await servePage('127.0.0.3');
    await gw.admin.setOrigins(app.id, [allowed]);
    const minted = await rawGql(gw.url, app.testKey, {
      query: 'mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }',
      variables: { input: { scopes: ['CALLS_READ', 'STATUS_SUBSCRIBE'], filter: { metadata: { customerId: 'c1' } } } },
    });
    const token = minted.data.createAccessToken.token as string;
    const place = async (customerId: string) =>
      (await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001', metadata: { customerId } } })).data!.createCall.call!
        .id;
    const before = await place('c1');
    const hidden = await place('c2');
    // The page lists, then subscribes without replay: a change of \`before\` between the two would
    // never reach it. So \`before\` has ended when the page lists it, and the live part is \`live\`'s.
    await eventually(
      async () => (await rawGql(gw.url, app.testKey, { query: `{ call(id: "${before}") { status } }` })).data.call.status === 'COMPLETED',
      20_000,
      'the first call to end',
    );

    const page = await browser.newPage();
    await page.goto(`${allowed}/#token=${token}`);
    await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'following');
    await page.waitForSelector(`tr[data-id="${before}"]`);
    await listenersRegistered(gw, 1);
    const live = await place('c1');
    const alsoHidden = await place('c3');
    await page.waitForSelector(`tr[data-id="${live}"][data-status="COMPLETED"]`, { timeout: 20_000 });
    await page.waitForSelector(`tr[data-id="${before}"][data-status="COMPLETED"]`, { timeout: 20_000 });
    const shown = await page.$$eval('tr[data-id]', (rows) => rows.map((row) => row.getAttribute('data-id')));
    expect(new Set(shown)).toEqual(new Set([before, live]));
    expect(shown).not.toContain(hidden);
    expect(shown).not.toContain(alsoHidden);

    const other = await browser.newPage();
    await other.goto(`${refused}/#token=${token}`);
    await other.waitForFunction(() => /^failed/.test(document.querySelector('#state')?.textContent ?? ''));
    expect(await other.$$('tr[data-id]')).toHaveLength(0);
    await page.close();
    await other.close();
  }, 60_000);

  it('the client package sends its operations by id to an application that takes only registered documents from tokens', async () => {
    const trusting = await newApp(gw.admin, 'trusted documents page');
    const origin = await servePage('127.0.0.4', CLIENT_PAGE, await bundleClient());
    await gw.admin.setOrigins(trusting.id, [origin]);
    await gw.admin.pushDocuments(trusting.id, documentsOfManifest(manifest, { maxDocuments: 1_000, maxBytes: 100_000 }), {
      maxDocuments: 1_000,
      replace: false,
    });
    await gw.admin.setDocumentsPolicy(trusting.id, 'TRUSTED_FOR_TOKENS');
    const minted = await rawGql(gw.url, trusting.testKey, {
      query: 'mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token } }',
      variables: { input: { scopes: ['CALLS_READ', 'STATUS_SUBSCRIBE'] } },
    });
    const token = minted.data.createAccessToken.token as string;
    const place = async () =>
      (await gql(gw.url, trusting.testKey, CreateCallDocument, { input: { from: trusting.number, to: '+15005550001' } })).data!.createCall.call!.id;
    const before = await place();

    const page = await browser.newPage();
    await page.goto(`${origin}/#token=${token}`);
    await page.waitForFunction(() => /^(following|failed)/.test(document.querySelector('#state')?.textContent ?? ''));
    expect(await page.textContent('#state')).toBe('following');
    await page.waitForSelector(`tr[data-id="${before}"]`);
    const live = await place();
    await page.waitForSelector(`tr[data-id="${live}"][data-status="COMPLETED"]`, { timeout: 20_000 });
    await page.waitForSelector(`tr[data-id="${before}"][data-status="COMPLETED"]`, { timeout: 20_000 });
    // The same token's own documents: refused on both transports.
    await page.waitForFunction(() => document.querySelector('#adhoc-ws')?.textContent !== '');
    expect(await page.textContent('#adhoc-http')).toBe('403 PERSISTED_DOCUMENT_REQUIRED');
    expect(await page.textContent('#adhoc-ws')).toBe('PERSISTED_DOCUMENT_REQUIRED');
    await page.close();
  }, 60_000);
});
