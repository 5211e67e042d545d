import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootGateway, eventually, gql, newApp, type TestApp, type TestGateway } from './helpers/gateway.js';
import { freePort } from './helpers/global-setup.js';
import { startServe } from './helpers/cli.js';
import { Receiver } from './helpers/receiver.js';
import { CreateCallDocument, CreateWebhookEndpointDocument, WebhookDeliveriesDocument } from './gql/graphql.js';

/**
 * A loopback endpoint that answers 200 at once and then trickles its body, a byte at a time, and
 * never ends it (or, with `flood`, sends megabytes as fast as it can): the attacks on a delivery
 * worker whose timeout is an idle timeout and whose body limit is applied after reading.
 */
class Trickler {
  open = new Map<string, number>();
  maxOpen = 0;
  duplicates = 0;
  requests = 0;
  closedEarly = 0;
  flood = false;
  private server: http.Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const id = String(req.headers['webhook-id']);
      this.requests++;
      if (this.open.has(id)) this.duplicates++;
      this.open.set(id, (this.open.get(id) ?? 0) + 1);
      this.maxOpen = Math.max(
        this.maxOpen,
        [...this.open.values()].reduce((a, b) => a + b, 0),
      );
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write(this.flood ? 'x'.repeat(64 * 1024) : 'x'), this.flood ? 1 : 300);
      this.timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        this.timers.delete(timer);
        this.closedEarly++;
        const left = (this.open.get(id) ?? 1) - 1;
        if (left > 0) this.open.set(id, left);
        else this.open.delete(id);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/slow`;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

async function endpoint(gw: TestGateway, app: TestApp, url: string, events?: string[]): Promise<string> {
  const { data } = await gql(gw.url, app.testKey, CreateWebhookEndpointDocument, { input: { url, events: events as never } });
  expect(data!.createWebhookEndpoint.userErrors).toEqual([]);
  return data!.createWebhookEndpoint.endpoint!.id;
}

describe("one tenant's slow webhook endpoint does not stall anyone else's deliveries", () => {
  let gw: TestGateway;
  let slow: Trickler;
  let receiver: Receiver;
  beforeAll(async () => {
    // Each attempt may take 2 s in all; a failed attempt is retried a minute later.
    gw = await bootGateway({
      env: { WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_RETRY_SCHEDULE_MS: '0,60000', WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
    });
    slow = await new Trickler().start();
    receiver = await new Receiver().start();
  });
  afterAll(async () => {
    await gw.stop();
    await slow.stop();
    await receiver.stop();
  });

  it('50 deliveries queued for a trickling endpoint: another application still gets its webhooks at once, never two POSTs of one delivery at a time', async () => {
    const noisy = await newApp(gw.admin);
    await endpoint(gw, noisy, slow.url, ['CALLS_INITIATED']);
    for (let i = 0; i < 50; i++) await gql(gw.url, noisy.testKey, CreateCallDocument, { input: { from: noisy.number, to: '+15005550006' } });
    await eventually(() => slow.requests >= 4, 10_000, 'the slow endpoint to be busy');

    const quiet = await newApp(gw.admin);
    await endpoint(gw, quiet, receiver.url, ['CALLS_INITIATED']);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const call = (await gql(gw.url, quiet.testKey, CreateCallDocument, { input: { from: quiet.number, to: '+15005550006' } })).data!.createCall.call!;
      await eventually(() => receiver.received.some((request) => request.json.data.call.id === call.id), 5_000, 'the quiet delivery');
      latencies.push(Date.now() - started);
    }
    // Normal latency is a few ms to a poll (50 ms); stuck behind the slow endpoint it would be seconds.
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    // The slow endpoint holds at most its share of the workers (4), each attempt ends at its deadline.
    expect(slow.maxOpen).toBeLessThanOrEqual(4);
    expect(slow.duplicates).toBe(0);
    await eventually(() => slow.closedEarly >= 8, 10_000, 'attempts to end at their deadline');

    // The worker cuts the connection first and records the attempt after: the endpoint can see
    // the 8th close a moment before its attempt is listed.
    let tried: { error: string | null; latencyMs: number }[] = [];
    await eventually(
      async () => {
        const nodes = (await gql(gw.url, noisy.testKey, WebhookDeliveriesDocument, { filter: {}, first: 100 })).data!.webhookDeliveries.nodes;
        tried = nodes.flatMap((node) => node.attempts) as never;
        return tried.length >= 8;
      },
      5_000,
      'eight attempts to be recorded',
    );
    for (const attempt of tried) {
      expect(attempt.error).toMatch(/no complete response within 2000 ms/);
      expect(attempt.latencyMs).toBeLessThan(3_000);
    }
  }, 60_000);

  it('a tenant with three slow endpoints holds at most its share (8) of the workers, and others still get theirs at once', async () => {
    const many = await newApp(gw.admin);
    const trickle = await new Trickler().start();
    try {
      for (let i = 0; i < 3; i++) await endpoint(gw, many, `${trickle.url}?endpoint=${i}`, ['CALLS_INITIATED']);
      for (let i = 0; i < 10; i++) await gql(gw.url, many.testKey, CreateCallDocument, { input: { from: many.number, to: '+15005550006' } });
      await eventually(() => trickle.maxOpen >= 8, 10_000, 'the tenant to reach its share');
      const quiet = await newApp(gw.admin);
      await endpoint(gw, quiet, receiver.url, ['CALLS_INITIATED']);
      const started = Date.now();
      const call = (await gql(gw.url, quiet.testKey, CreateCallDocument, { input: { from: quiet.number, to: '+15005550006' } })).data!.createCall.call!;
      await eventually(() => receiver.received.some((request) => request.json.data.call.id === call.id), 5_000, 'the quiet delivery');
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(trickle.maxOpen).toBe(8);
      expect(trickle.duplicates).toBe(0);
    } finally {
      await trickle.stop();
    }
  }, 60_000);

  it('an endpoint that floods its answer is read up to 4 KB and cut off', async () => {
    const app = await newApp(gw.admin);
    const flood = await new Trickler().start();
    flood.flood = true;
    try {
      await endpoint(gw, app, flood.url, ['CALLS_INITIATED']);
      await gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550006' } });
      let attempts: { statusCode: number | null; responseBody: string | null; latencyMs: number }[] = [];
      await eventually(
        async () => {
          const nodes = (await gql(gw.url, app.testKey, WebhookDeliveriesDocument, { filter: {}, first: 10 })).data!.webhookDeliveries.nodes;
          attempts = nodes.flatMap((node) => node.attempts) as never;
          return attempts.length >= 1;
        },
        10_000,
        'the attempt to be recorded',
      );
      expect(attempts[0]).toMatchObject({ statusCode: 200 });
      expect(attempts[0]!.responseBody!.length).toBeLessThanOrEqual(4_096);
      expect(attempts[0]!.latencyMs).toBeLessThan(1_000);
      expect(flood.closedEarly).toBeGreaterThanOrEqual(1);
    } finally {
      await flood.stop();
    }
  });
});

describe('SIGTERM with deliveries stuck on a slow endpoint', () => {
  it('the process exits promptly, and the deliveries are tried again by the next process', async () => {
    const slow = await new Trickler().start();
    const port = await freePort();
    const { freshDatabase } = await import('./helpers/gateway.js');
    const database = await freshDatabase();
    try {
      const env = { DATABASE_URL: database.url, PORT: String(port), WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '15000' };
      const first = await startServe(env);
      const url = `http://127.0.0.1:${port}/graphql`;
      const key = /test key: (sk_test_app_\w+)/.exec(first.output())![1]!;
      const number = /number:\s+(\+\d+)/.exec(first.output())![1]!;
      await gql(url, key, CreateWebhookEndpointDocument, { input: { url: slow.url, events: ['CALLS_INITIATED'] as never } });
      for (let i = 0; i < 6; i++) await gql(url, key, CreateCallDocument, { input: { from: number, to: '+15005550006' } });
      await eventually(() => slow.open.size >= 4, 10_000, 'deliveries in flight');
      const started = Date.now();
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(3_000);

      // Their leases were given back: a new process tries them again at once, not after the lease.
      const before = slow.requests;
      const second = await startServe(env);
      try {
        await eventually(() => slow.requests >= before + 4, 10_000, 'the next process to try them again');
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await slow.stop();
      await database.drop();
    }
  }, 90_000);
});

describe('a burst to many endpoints of one application', () => {
  it('drains: deliveries that share their due time are claimed, at most the caps at once (regression: the claim stalled for good)', async () => {
    // WEBHOOK_TIMEOUT_MS: requests are held while the backlog builds, then answered together.
    const gw = await bootGateway({ simulator: 'fast', env: { WEBHOOK_TIMEOUT_MS: '30000', WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
    let held: http.ServerResponse[] | null = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const arrived = new Set<string>();
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        arrived.add(String(req.headers['webhook-id']));
        res.on('finish', () => inFlight--);
        if (held) held.push(res);
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const app = await newApp(gw.admin);
      for (let i = 0; i < 10; i++) await endpoint(gw, app, `${base}/hooks/${i}`);
      // 40 calls, each four status changes, to ten endpoints: 1,600 deliveries, fanned out in
      // groups whose rows share next_attempt_at.
      await Promise.all(Array.from({ length: 40 }, () => gql(gw.url, app.testKey, CreateCallDocument, { input: { from: app.number, to: '+15005550001' } })));
      const queued = async () =>
        Number((await gw.database.sql.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_delivery WHERE app_id = $1`, [app.id]))[0]!.n);
      await eventually(async () => (await queued()) >= 1_600, 20_000, 'the deliveries to be queued').catch(async (error) => {
        throw new Error(`${error}: ${await queued()} queued`);
      });
      const expected = await queued();
      // The application's cap (8 at once) held them all this time.
      expect(arrived.size).toBe(8);
      const release = held!;
      held = null;
      for (const res of release) res.writeHead(204).end();
      await eventually(() => arrived.size === expected, 30_000, `all ${expected} deliveries (${arrived.size} arrived)`);
      expect(maxInFlight).toBeLessThanOrEqual(8);
    } finally {
      held = null;
      server.closeAllConnections();
      server.close();
      await gw.stop();
    }
  }, 90_000);
});
