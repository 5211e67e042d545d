/// <reference lib="dom" />
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { bootGateway, eventually, gql, listenersRegistered, newApp, rawGql, type TestApp, type TestGateway } from '../helpers/gateway.js';
import { CreateCallDocument } from '../gql/graphql.js';
import { existsSync } from 'node:fs';
import { CHROMIUM } from '../helpers/global-setup.js';

const HAVE_CHROMIUM = existsSync(CHROMIUM);

/**
 * A frontend on its own origin (another loopback address and port) that lists and follows calls
 * with an access token, in real Chromium: the CORS preflight, the allow-origin headers and the
 * WebSocket's Origin check are the browser's, not a test's imitation of them.
 */
const PAGE = (gatewayUrl: string) => `<!doctype html>
<html><body>
<p id="state">starting</p>
<table id="calls"><tbody></tbody></table>
<script type="module">
  const gateway = ${JSON.stringify(gatewayUrl)};
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
  try {
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

let gw: TestGateway;
let app: TestApp;
let browser: Browser;
const servers: http.Server[] = [];

/** Serves the page at http://<host>:<free port>/. */
async function servePage(host: string): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE(gw.url));
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
});
