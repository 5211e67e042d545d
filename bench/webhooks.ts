/**
 * Webhook delivery benchmark (issue 5): deliveries/s to a loopback receiver with 1 and with 2
 * gateway processes (`calls-gateway serve` on one database), and the time from a status change
 * (the event's occurred_at) to its arrival at the receiver, p50/p99.
 *
 *   npm run bench:webhooks                 # embedded PostgreSQL (.data/bench, port 54339)
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:webhooks
 *
 * Environment (all optional): BENCH_WEBHOOK_CALLS (600), BENCH_WEBHOOK_RATE (10 calls/s),
 * BENCH_WEBHOOK_BACKLOG (<calls>: only the drain of a backlog, 1 and 10 endpoints),
 * BENCH_PG_PORT (54339), BENCH_SYNCHRONOUS_COMMIT (off).
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import {
  benchLog,
  freePort,
  serveGateway,
  createBenchApp,
  FROM_NUMBER,
  intEnv,
  markdownTable,
  percentile,
  pgPortEnv,
  postGraphQL,
  prepareBenchDatabase,
  ROOT,
  runWorkers,
  sleep,
  synchronousCommitEnv,
  TO_STAYS_IN_PROGRESS,
} from './helpers.js';

const CALLS = intEnv('BENCH_WEBHOOK_CALLS', 600, 1, 100_000);
const RATE = intEnv('BENCH_WEBHOOK_RATE', 10, 1, 1_000);
const PG_PORT = pgPortEnv('BENCH_PG_PORT', 54339);
const SYNCHRONOUS_COMMIT = synchronousCommitEnv('BENCH_SYNCHRONOUS_COMMIT');
const log = benchLog('bench:webhooks');

/** A bench gateway's environment: the simulator at 0.05 (a call's three events in ~250 ms), no rate limit, a loopback receiver allowed. */
function gatewayEnv(databaseUrl: string, port: number): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    SIMULATOR_TIME_SCALE: '0.05',
    WEBHOOK_POLL_MS: '200',
    RATE_LIMIT_PER_MINUTE: '0',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  };
}

async function run(processes: number, calls: number, ratePerSecond: number, name: string): Promise<Record<string, number>> {
  const prepared = await prepareBenchDatabase({ name, dataDir: path.join(ROOT, '.data', 'bench'), port: PG_PORT, synchronousCommit: SYNCHRONOUS_COMMIT, log });
  const arrivals = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      arrivals.set(JSON.parse(body).eventId, Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const gateways: { child: ChildProcess; url: string }[] = [];
  try {
    for (let i = 0; i < processes; i++) {
      const port = await freePort();
      // +15005550006 answers and stays in progress: 3 events per call; 0.05 makes that ~250 ms.
      const started = await serveGateway(gatewayEnv(prepared.url, port));
      gateways.push({ child: started.child, url: `http://127.0.0.1:${port}/graphql` });
    }
    // In production serve creates nothing and prints no key: the application is made as the CLI's
    // `apps create` and `numbers assign` make it.
    const database = await openDatabase(prepared.url, { poolSize: 1, migrate: true });
    const app = await createBenchApp(database, 'bench').finally(() => database.close());
    const key = app.testKey;
    await postGraphQL(gateways[0]!.url, key, 'mutation($u: String!) { createWebhookEndpoint(input: {url: $u}) { userErrors { code } } }', { u: receiverUrl });
    const startedAt = Date.now();
    const create = (url: string) =>
      postGraphQL(url, key, 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } } }', { i: { from: FROM_NUMBER, to: TO_STAYS_IN_PROGRESS } });
    if (ratePerSecond > 0) {
      // Paced: what an endpoint sees when the gateway keeps up.
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < calls; i++) {
        pending.push(create(gateways[i % gateways.length]!.url));
        await sleep(1000 / ratePerSecond);
      }
      await Promise.all(pending);
    } else {
      // As fast as 20 clients can create calls: the queue's throughput.
      await runWorkers(calls, 20, (_, worker) => create(gateways[worker % gateways.length]!.url));
    }
    const expected = calls * 3;
    const deadline = Date.now() + 120_000;
    while (arrivals.size < expected && Date.now() < deadline) await sleep(50);
    const client = new pg.Client({ connectionString: prepared.url });
    await client.connect();
    const { rows } = await client.query<{ id: string; at: Date }>(`SELECT id, occurred_at AS at FROM call_event WHERE type = 'status_changed'`);
    await client.end();
    const latencies = rows
      .filter((row) => arrivals.has(row.id))
      .map((row) => arrivals.get(row.id)! - row.at.getTime())
      .sort((a, b) => a - b);
    const times = [...arrivals.values()].sort((a, b) => a - b);
    return {
      processes,
      rate: ratePerSecond,
      calls,
      events: rows.length,
      delivered: arrivals.size,
      deliveriesPerSecond: Math.round(arrivals.size / ((times.at(-1)! - times[0]!) / 1000)),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      wallSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
    };
  } finally {
    for (const gateway of gateways) gateway.child.kill('SIGTERM');
    await Promise.all(gateways.map((gateway) => new Promise((resolve) => gateway.child.once('exit', resolve))));
    receiver.close();
    await prepared.server.stop();
  }
}

/**
 * The backlog case (issue 26): `calls` calls are made while the receiver holds every request it
 * gets (nothing is answered, so deliveries pile up as pending rows, as behind a slow or down
 * endpoint); then it answers everything at once and from then on at once (204), and the drain is
 * timed: the queue's own throughput, with `endpoints` endpoints of one application on one receiver.
 */
async function backlog(endpoints: number, calls: number, name: string, applications = 1): Promise<Record<string, number>> {
  const prepared = await prepareBenchDatabase({ name, dataDir: path.join(ROOT, '.data', 'bench'), port: PG_PORT, synchronousCommit: SYNCHRONOUS_COMMIT, log });
  let held: http.ServerResponse[] | null = [];
  let arrived = 0;
  let firstAt: number;
  let lastAt = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (held) return void held.push(res);
      arrived++;
      lastAt = Date.now();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const port = await freePort();
  // Attempts wait while the receiver holds them: a timeout longer than the backlog takes to build.
  const gateway = await serveGateway({ ...gatewayEnv(prepared.url, port), WEBHOOK_TIMEOUT_MS: '60000' });
  const url = `http://127.0.0.1:${port}/graphql`;
  const client = new pg.Client({ connectionString: prepared.url });
  try {
    // `applications` applications (each with its own number), the endpoints spread over them.
    const database = await openDatabase(prepared.url, { poolSize: 1, migrate: true });
    const apps: { key: string; number: string }[] = [];
    try {
      for (let a = 0; a < applications; a++) {
        const number = a === 0 ? FROM_NUMBER : `+1555300${String(a).padStart(4, '0')}`;
        apps.push({ key: (await createBenchApp(database, `bench ${a}`, number)).testKey, number });
      }
    } finally {
      await database.close();
    }
    for (let i = 0; i < endpoints; i++) {
      const createEndpoint = 'mutation($u: String!) { createWebhookEndpoint(input: {url: $u}) { userErrors { code } } }';
      await postGraphQL(url, apps[i % applications]!.key, createEndpoint, { u: `${base}/hooks/${i}` });
    }
    await runWorkers(calls, 20, (job) => {
      const app = apps[job % applications]!;
      return postGraphQL(url, app.key, 'mutation($i: CreateCallInput!) { createCall(input: $i) { call { id } } }', {
        i: { from: app.number, to: TO_STAYS_IN_PROGRESS },
      });
    });
    const expected = calls * 3 * (endpoints / applications);
    await client.connect();
    const queued = async () => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_delivery`)).rows[0]!.n);
    const deadline = Date.now() + 120_000;
    while ((await queued()) < expected && Date.now() < deadline) await sleep(100);
    // Drain: the held requests are answered and counted, then every one as it comes.
    const release = held!;
    held = null;
    firstAt = Date.now();
    for (const res of release) {
      arrived++;
      res.writeHead(204).end();
    }
    const drainDeadline = Date.now() + 300_000;
    let report = Date.now();
    while (arrived < expected && Date.now() < drainDeadline) {
      await sleep(20);
      if (Date.now() - report > 5_000) {
        report = Date.now();
        const states = (await client.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM webhook_delivery GROUP BY status`)).rows;
        log(`  ${arrived} of ${expected} arrived; queue ${states.map((row) => `${row.status} ${row.n}`).join(', ')}`);
      }
    }
    return {
      endpoints,
      applications,
      calls,
      deliveries: expected,
      delivered: arrived,
      drainSeconds: Math.round((lastAt - firstAt) / 100) / 10,
      deliveriesPerSecond: Math.round(arrived / ((lastAt - firstAt) / 1000)),
    };
  } finally {
    await client.end().catch(() => undefined);
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => gateway.child.once('exit', resolve));
    receiver.closeAllConnections();
    receiver.close();
    await prepared.server.stop();
  }
}

if (process.env.BENCH_WEBHOOK_BACKLOG) {
  // BENCH_WEBHOOK_BACKLOG=<calls>: only the backlog case, with 1 and with 10 endpoints.
  const calls = intEnv('BENCH_WEBHOOK_BACKLOG', 1000, 1, 100_000);
  const drained = [];
  for (const [endpoints, applications] of [
    [1, 1],
    [10, 1],
    [10, 10],
  ] as const) {
    // Ten endpoints of one application get a fifth of the calls (twice one endpoint's deliveries in
    // all); of ten applications, each application that many.
    const made = endpoints === 1 ? calls : Math.ceil(calls / 5) * applications;
    log(`backlog: ${made} calls to ${endpoints} endpoint(s) of ${applications} application(s), then the drain …`);
    drained.push(await backlog(endpoints, made, `calls_bench_webhooks_backlog_${endpoints}_${applications}`, applications));
  }
  console.log(
    markdownTable(
      ['endpoints', 'applications', 'calls', 'deliveries', 'delivered', 'drain s', 'deliveries/s'],
      drained.map((r) => [r.endpoints, r.applications, r.calls, r.deliveries, r.delivered, r.drainSeconds, r.deliveriesPerSecond]),
    ),
  );
  process.exit(drained.some((r) => r.delivered !== r.deliveries) ? 1 : 0);
}

const results = [];
for (const processes of [1, 2]) {
  log(`${processes} gateway process(es), ${CALLS} calls as fast as possible …`);
  results.push(await run(processes, CALLS, 0, `calls_bench_webhooks_${processes}`));
  log(`${processes} gateway process(es), ${RATE} calls/s for 15 s …`);
  results.push(await run(processes, RATE * 15, RATE, `calls_bench_webhooks_${processes}`));
}
console.log(
  `calls-gateway webhook bench, ${new Date().toISOString()}, node ${process.version}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'}`,
);
console.log(
  markdownTable(
    ['gateway processes', 'load', 'calls', 'events', 'delivered', 'deliveries/s', 'change → delivery p50 ms', 'p99 ms'],
    results.map((r) => [
      r.processes,
      r.rate ? `${r.rate} calls/s (${r.rate * 3} events/s)` : '20 clients, flat out',
      r.calls,
      r.events,
      r.delivered,
      r.deliveriesPerSecond,
      r.p50Ms,
      r.p99Ms,
    ]),
  ),
);
if (results.some((r) => r.delivered !== r.events)) process.exit(1);
