import dgram from 'node:dgram';
import { pbkdf2 } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, gql, newApp, rowCounts, type TestGateway } from './helpers/gateway.js';
import { CreateCallDocument, CreateWebhookEndpointDocument, RotateStatusCallbackSecretDocument } from './gql/graphql.js';

// Webhook names (endpoints, statusCallbackUrl) are resolved off libuv's thread pool, with a
// deadline. The DNS server here is a loopback UDP socket that never answers: the kind anyone
// can point a name at. Nothing leaves the machine.
let silent: dgram.Socket;
let queries = 0;
let gw: TestGateway;
const TIMEOUT_MS = 1_500;

beforeAll(async () => {
  silent = dgram.createSocket('udp4');
  silent.on('message', () => queries++);
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const port = silent.address().port;
  // A guarded gateway (no private URLs), as in production.
  gw = await bootGateway({ simulator: 'frozen', env: { WEBHOOK_DNS_SERVERS: `127.0.0.1:${port}`, WEBHOOK_DNS_TIMEOUT_MS: String(TIMEOUT_MS) } });
});
afterAll(async () => {
  await gw?.stop();
  silent?.close();
});

describe('webhook URLs whose DNS never answers', () => {
  it('are refused after WEBHOOK_DNS_TIMEOUT_MS (URL_NOT_ALLOWED, nothing stored), and while 12 hang the thread pool stays free', async () => {
    const app = await newApp(gw.admin);
    await gql(gw.url, app.testKey, RotateStatusCallbackSecretDocument, {});
    const before = await rowCounts(gw.database, app.id);
    const hanging = Array.from({ length: 12 }, (_, i) =>
      i % 2
        ? gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: `https://hook-${i}.slow.example/x` } }).then(
            (r) => r.data!.createWebhookEndpoint,
          )
        : gql(gw.url, app.testKey, CreateCallDocument, {
            input: { from: app.number, to: '+15005550001', statusCallbackUrl: `https://cb-${i}.slow.example/x` },
          }).then((r) => r.data!.createCall),
    );
    // The gateway runs in this process: with getaddrinfo, 12 unanswered names would hold all 4
    // threads of libuv's pool and this would wait for them; off the pool, it runs at once.
    const first = await Promise.race([
      new Promise<string>((resolve, reject) => pbkdf2('x', 'y', 1, 32, 'sha256', (error) => (error ? reject(error) : resolve('thread pool')))),
      Promise.all(hanging).then(() => 'the lookups'),
    ]);
    expect(first).toBe('thread pool');
    const results = await Promise.all(hanging);
    for (const [i, result] of results.entries()) {
      const field = i % 2 ? ['input', 'url'] : ['input', 'statusCallbackUrl'];
      expect(result.userErrors, String(i)).toEqual([
        expect.objectContaining({ code: 'URL_NOT_ALLOWED', field, message: expect.stringMatching(/did not resolve within 1500 ms/) }),
      ]);
    }
    expect(queries).toBeGreaterThanOrEqual(12);
    expect(await rowCounts(gw.database, app.id)).toEqual(before);
    expect((await gw.database.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_endpoint WHERE app_id = $1`, [app.id]))[0]!.n).toBe(0);
  });

  it('a failed name is asked again after a few seconds (a retried delivery is not refused from memory for long)', async () => {
    const app = await newApp(gw.admin);
    const create = () => gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: 'https://again.slow.example/x' } });
    await create();
    const asked = queries;
    // Within the failure's 3 s: refused from memory, no query.
    expect((await create()).data!.createWebhookEndpoint.userErrors[0]!.code).toBe('URL_NOT_ALLOWED');
    expect(queries).toBe(asked);
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expect((await create()).data!.createWebhookEndpoint.userErrors[0]!.code).toBe('URL_NOT_ALLOWED');
    expect(queries).toBeGreaterThan(asked);
  });

  it('localhost names are refused by name, without asking DNS', async () => {
    const app = await newApp(gw.admin);
    const asked = queries;
    for (const url of ['http://localhost:4000/hook', 'http://api.localhost/hook', 'http://LOCALHOST./hook']) {
      const result = (await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url } })).data!.createWebhookEndpoint;
      expect(result.userErrors, url).toEqual([expect.objectContaining({ code: 'URL_NOT_ALLOWED', message: expect.stringMatching(/loopback name/) })]);
    }
    expect(queries).toBe(asked);
  });
});

describe('a name that resolves to a private address', () => {
  // A loopback DNS server that answers every A query with 10.0.0.5 (and AAAA with nothing).
  let answering: dgram.Socket;
  let guarded: TestGateway;
  const logged: { message: string; fields: unknown }[] = [];
  beforeAll(async () => {
    answering = dgram.createSocket('udp4');
    answering.on('message', (query, peer) => {
      let end = 12;
      while (query[end]! !== 0) end += query[end]! + 1;
      const question = query.subarray(12, end + 5);
      const isA = query.readUInt16BE(end + 1) === 1;
      const header = Buffer.alloc(12);
      query.copy(header, 0, 0, 2);
      header.writeUInt16BE(0x8180, 2);
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(isA ? 1 : 0, 6);
      const answer = isA ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 5]) : Buffer.alloc(0);
      answering.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
    });
    await new Promise<void>((resolve) => answering.bind(0, '127.0.0.1', resolve));
    const log = (message: string, fields?: unknown) => logged.push({ message, fields });
    guarded = await bootGateway({
      simulator: 'frozen',
      env: { WEBHOOK_DNS_SERVERS: `127.0.0.1:${answering.address().port}` },
      logger: { info: log, warn: log, error: log },
    });
  });
  afterAll(async () => {
    await guarded?.stop();
    answering?.close();
  });

  it('is refused without saying what it resolves to (no mapping of internal DNS); the address goes to the log', async () => {
    const app = await newApp(guarded.admin);
    const result = (await gql(guarded.url, app.testKey, CreateWebhookEndpointDocument, { input: { url: 'https://private.test/hook' } })).data!
      .createWebhookEndpoint;
    expect(result.userErrors).toEqual([expect.objectContaining({ code: 'URL_NOT_ALLOWED' })]);
    expect(result.userErrors[0]!.message).toMatch(/private\.test resolves to a loopback, private or link-local address/);
    expect(result.userErrors[0]!.message).not.toContain('10.0.0.5');
    expect(logged).toContainEqual(expect.objectContaining({ fields: expect.objectContaining({ host: 'private.test', address: '10.0.0.5' }) }));
  });
});
