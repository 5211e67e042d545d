/**
 * The event log's ceiling (issue 12): events per second written, numbered and announced with 1, 4
 * and 16 concurrent writers, and how long an event takes from its commit to a listener.
 *
 *   npm run bench:event-log                                 # embedded PostgreSQL (:54341)
 *   DATABASE_URL=postgres://… npm run bench:event-log
 *
 * One process runs the gateway's own event log (src/events/event-log.ts: the advisory-lock
 * sequencer, the LISTEN/NOTIFY bus, the tailer) and a listener on the writers' tenant; each writer
 * is its own PostgreSQL connection inserting calls with their INITIATED event as fast as it can
 * (the gateway's single-row INSERT, prepared), then asking the log to number (as a gateway
 * process does after its writes). Writers and log share this machine's two cores with PostgreSQL:
 * the figures are a ceiling for one gateway process and one database on this machine.
 *
 * Environment: BENCH_WRITERS (1,4,16), BENCH_DURATION (8 s per step), BENCH_PG_PORT (54341),
 * BENCH_SYNCHRONOUS_COMMIT (off).
 */
import 'reflect-metadata';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import { AdminStore } from '../src/db/admin-store.js';
import { openDatabase } from '../src/db/database.js';
import { PgEventLog } from '../src/db/pg-event-log.js';
import { newCallId, newEventId } from '../src/domain/ids.js';
import { EventLog } from '../src/events/event-log.js';
import { PgEventBus } from '../src/db/pg-event-bus.js';
import type { Logger } from '../src/domain/logger.js';
import { FROM_NUMBER, INSERT_CALL, INSERT_CALL_NAME, insertCallValues, prepareBenchDatabase } from './shared.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const log = (line: string) => process.stderr.write(`[event-log] ${line}\n`);
/** The log's own warnings and errors (a failing sequencer would otherwise look like a slow one). */
const logger: Logger = { info() {}, warn: (message, fields) => log(`warn: ${message} ${JSON.stringify(fields ?? {})}`), error: (message, fields) => log(`error: ${message} ${JSON.stringify(fields ?? {})}`) };
const writersList = (process.env.BENCH_WRITERS || '1,4,16').split(',').map(Number);
const seconds = Number(process.env.BENCH_DURATION || '8');

interface Step {
  writers: number;
  /** false: the sequencer does not run (what writing alone costs the database). */
  numbering: boolean;
  seconds: number;
  /** Events committed by the writers, per second. */
  writtenPerSecond: number;
  /** Events numbered by the sequencer and delivered to the listener, per second. */
  deliveredPerSecond: number;
  /** From the event's commit (its created_at) to the listener, ms. */
  lagMs: { p50: number; p99: number; max: number };
  /** Sequencer runs (transactions) per second, and events numbered per run. */
  sequencerRunsPerSecond: number;
  eventsPerRun: number;
  /** PostgreSQL CPU per event (µs), when PostgreSQL is a process of this machine. */
  dbCpuMicrosPerEvent: number | null;
  /** This process's CPU per event (µs): writers' client side, sequencer, tailer, listener. */
  nodeCpuMicrosPerEvent: number;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! * 10) / 10;
}

async function main(): Promise<void> {
  const prepared = await prepareBenchDatabase({
    name: 'calls_eventlog_bench',
    dataDir: path.join(root, '.data', 'bench'),
    port: Number(process.env.BENCH_PG_PORT || '54341'),
    synchronousCommit: process.env.BENCH_SYNCHRONOUS_COMMIT || 'off',
    log,
  });
  const database = await openDatabase(prepared.url, { poolSize: 4, migrate: true });
  const admin = new AdminStore(database.orm.em);
  const app = await admin.createApp('event-log-bench');
  await admin.assignNumber(app.id, FROM_NUMBER);

  // The sequencer's statements, counted from the wrapper the log uses.
  const pgLog = new PgEventLog(database.sql);
  let runs = 0;
  const sequence = pgLog.sequence.bind(pgLog);
  pgLog.sequence = async (batch, channel) => {
    runs++;
    return sequence(batch, channel);
  };
  const bus = new PgEventBus(prepared.url, database.sql, logger);
  await bus.start();
  const eventLog = new EventLog(pgLog, bus, logger, { pollMs: 1_000, batch: 1_000, sequenceDelayMs: 2 });
  await eventLog.start();

  const probe = new pg.Client({ connectionString: prepared.url });
  await probe.connect();
  const { rows: pidRows } = await probe.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const postmaster = await import('node:fs').then((fs) => {
    try {
      const stat = fs.readFileSync(`/proc/${pidRows[0]!.pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return null;
    }
  });
  const dbCpu = async (): Promise<number | null> => {
    if (postmaster === null) return null;
    const fs = await import('node:fs');
    let ticks = 0;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
        if (Number(rest[1]) === postmaster) ticks += Number(rest[11]) + Number(rest[12]);
      } catch {
        // gone
      }
    }
    return ticks * 10_000;
  };

  const steps: Step[] = [];
  const plan = [...(process.env.BENCH_NUMBERING_OFF === '0' ? [] : [{ writers: 1, numbering: false }]), ...writersList.map((writers) => ({ writers, numbering: true }))];
  for (const { writers, numbering } of plan) {
    const clients = await Promise.all(
      Array.from({ length: writers }, async () => {
        const client = new pg.Client({ connectionString: prepared.url });
        await client.connect();
        return client;
      }),
    );
    const lags: number[] = [];
    let delivered = 0;
    let measuring = false;
    const unlisten = eventLog.listen(app.id, 'test', (event) => {
      if (!measuring) return;
      delivered++;
      lags.push(Date.now() - new Date(event.occurredAt).getTime());
    });
    let written = 0;
    let stop = false;
    const loops = clients.map(async (client) => {
      while (!stop) {
        const id = newCallId('test');
        const values = insertCallValues({ id, eventId: newEventId(), appId: app.id, from: FROM_NUMBER, to: '+14155550100', fromChannel: 'pstn', toChannel: 'pstn', metadata: { step: writers } });
        await client.query({ name: INSERT_CALL_NAME, text: INSERT_CALL, values });
        if (measuring) written++;
        if (numbering) eventLog.kick();
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // warm-up
    const runsBefore = runs;
    const cpuBefore = process.cpuUsage();
    const dbBefore = await dbCpu();
    measuring = true;
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
    measuring = false;
    const elapsed = (Date.now() - started) / 1_000;
    const cpu = process.cpuUsage(cpuBefore);
    const dbAfter = await dbCpu();
    const stepRuns = runs - runsBefore;
    stop = true;
    await Promise.all(loops);
    unlisten();
    await Promise.all(clients.map((client) => client.end()));
    // What a step left unnumbered is numbered before the next one starts.
    for (;;) {
      eventLog.kick();
      await eventLog.settle();
      const { rows } = await probe.query<{ pending: boolean }>('SELECT EXISTS (SELECT 1 FROM call_event WHERE position IS NULL) AS pending');
      if (!rows[0]!.pending) break;
    }
    lags.sort((a, b) => a - b);
    const step: Step = {
      writers,
      numbering,
      seconds: Math.round(elapsed * 10) / 10,
      writtenPerSecond: Math.round(written / elapsed),
      deliveredPerSecond: Math.round(delivered / elapsed),
      lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: percentile(lags, 100) },
      sequencerRunsPerSecond: Math.round(stepRuns / elapsed),
      eventsPerRun: stepRuns ? Math.round((delivered / stepRuns) * 10) / 10 : 0,
      dbCpuMicrosPerEvent: dbBefore === null || dbAfter === null || !written ? null : Math.round((dbAfter - dbBefore) / written),
      nodeCpuMicrosPerEvent: written ? Math.round((cpu.user + cpu.system) / written) : 0,
    };
    log(`${writers} writer(s)${numbering ? '' : ', numbering off'}: ${step.writtenPerSecond} written/s, ${step.deliveredPerSecond} delivered/s, lag p50 ${step.lagMs.p50} ms p99 ${step.lagMs.p99} ms, ${step.sequencerRunsPerSecond} sequencer runs/s (${step.eventsPerRun} events each), DB ${step.dbCpuMicrosPerEvent ?? 'n/a'} µs/event, Node ${step.nodeCpuMicrosPerEvent} µs/event`);
    steps.push(step);
  }

  await probe.end();
  await eventLog.stop();
  await bus.close();
  await database.close();
  await prepared.server.stop();

  const report = { date: new Date().toISOString(), machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model }, database: prepared.source, steps };
  const dir = path.join(root, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'event-log-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const lines = [
    '| writers | numbering | written/s | delivered/s | lag p50 ms | lag p99 ms | sequencer runs/s | events per run | DB CPU µs/event | Node CPU µs/event |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...steps.map((s) => `| ${s.writers} | ${s.numbering ? 'on' : 'off'} | ${s.writtenPerSecond} | ${s.deliveredPerSecond} | ${s.lagMs.p50} | ${s.lagMs.p99} | ${s.sequencerRunsPerSecond} | ${s.eventsPerRun} | ${s.dbCpuMicrosPerEvent ?? 'n/a'} | ${s.nodeCpuMicrosPerEvent} |`),
  ];
  process.stdout.write(`\nevent log, ${report.date}, ${prepared.source}\n\n${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`event-log bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
