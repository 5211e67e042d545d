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
 * BENCH_SYNCHRONOUS_COMMIT (off), BENCH_NUMBERING_OFF (0: no step with numbering off).
 */
import 'reflect-metadata';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { PgEventLog } from '../src/db/pg-event-log.js';
import { newCallId, newEventId } from '../src/domain/ids.js';
import { EventLog } from '../src/events/event-log.js';
import { loadConfig } from '../src/config.js';
import { PgEventBus } from '../src/db/pg-event-bus.js';
import type { Logger } from '../src/domain/logger.js';
import { INSERT_CALL, INSERT_CALL_NAME, insertCallValues } from './shared.js';
import {
  benchLog,
  createBenchApp,
  eventsPending,
  findPostmaster,
  flagEnv,
  FROM_NUMBER,
  intListEnv,
  machineInfo,
  markdownTable,
  numberEnv,
  percentile,
  pgPortEnv,
  postgresCpuMicros,
  prepareBenchDatabase,
  processCpu,
  ROOT,
  round,
  sleep,
  synchronousCommitEnv,
  writeReport,
} from './helpers.js';

const log = benchLog('event-log');
/** The log's own warnings and errors (a failing sequencer would otherwise look like a slow one). */
const logger: Logger = {
  info() {},
  warn: (message, fields) => log(`warn: ${message} ${JSON.stringify(fields ?? {})}`),
  error: (message, fields) => log(`error: ${message} ${JSON.stringify(fields ?? {})}`),
};
const writersList = intListEnv('BENCH_WRITERS', [1, 4, 16], 1, 1_000);
const seconds = numberEnv('BENCH_DURATION', 8, 0.1, 3_600);

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

/** A lag percentile, ms to 0.1. */
const lagAt = (sorted: number[], p: number) => round(percentile(sorted, p), 1);

async function main(): Promise<void> {
  const prepared = await prepareBenchDatabase({
    name: 'calls_eventlog_bench',
    dataDir: path.join(ROOT, '.data', 'bench'),
    port: pgPortEnv('BENCH_PG_PORT', 54341),
    synchronousCommit: synchronousCommitEnv('BENCH_SYNCHRONOUS_COMMIT'),
    log,
  });
  const database = await openDatabase(prepared.url, { poolSize: 4, migrate: true });
  const app = await createBenchApp(database, 'event-log-bench');

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
  // The log's spacing as the gateway reads it (EVENT_SEQUENCE_INTERVAL_MS, validated, with its default).
  const { tuning } = loadConfig();
  const eventLog = new EventLog(pgLog, bus, logger, { pollMs: 1_000, batch: 1_000, sequenceIntervalMs: tuning.eventSequenceIntervalMs });
  await eventLog.start();

  const probe = new pg.Client({ connectionString: prepared.url });
  await probe.connect();
  const postmaster = await findPostmaster(probe);

  const steps: Step[] = [];
  const plan = [
    ...(flagEnv('BENCH_NUMBERING_OFF', true) ? [{ writers: 1, numbering: false }] : []),
    ...writersList.map((writers) => ({ writers, numbering: true })),
  ];
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
        const values = insertCallValues({
          id,
          eventId: newEventId(),
          appId: app.id,
          from: FROM_NUMBER,
          to: '+14155550100',
          fromChannel: 'pstn',
          toChannel: 'pstn',
          metadata: { step: writers },
        });
        await client.query({ name: INSERT_CALL_NAME, text: INSERT_CALL, values });
        if (measuring) written++;
        if (numbering) eventLog.kick();
      }
    });
    await sleep(1_000); // warm-up
    const runsBefore = runs;
    const nodeCpu = processCpu();
    const dbBefore = postgresCpuMicros(postmaster);
    measuring = true;
    const started = Date.now();
    await sleep(seconds * 1_000);
    measuring = false;
    const elapsed = (Date.now() - started) / 1_000;
    const cpu = nodeCpu();
    const dbAfter = postgresCpuMicros(postmaster);
    const stepRuns = runs - runsBefore;
    stop = true;
    await Promise.all(loops);
    unlisten();
    await Promise.all(clients.map((client) => client.end()));
    // What a step left unnumbered is numbered before the next one starts.
    for (;;) {
      eventLog.kick();
      await eventLog.settle();
      if (!(await eventsPending(probe))) break;
    }
    lags.sort((a, b) => a - b);
    const step: Step = {
      writers,
      numbering,
      seconds: Math.round(elapsed * 10) / 10,
      writtenPerSecond: Math.round(written / elapsed),
      deliveredPerSecond: Math.round(delivered / elapsed),
      lagMs: { p50: lagAt(lags, 50), p99: lagAt(lags, 99), max: lagAt(lags, 100) },
      sequencerRunsPerSecond: Math.round(stepRuns / elapsed),
      eventsPerRun: stepRuns ? Math.round((delivered / stepRuns) * 10) / 10 : 0,
      dbCpuMicrosPerEvent: dbBefore === null || dbAfter === null || !written ? null : Math.round((dbAfter - dbBefore) / written),
      nodeCpuMicrosPerEvent: written ? Math.round((cpu.user + cpu.system) / written) : 0,
    };
    log(
      `${writers} writer(s)${numbering ? '' : ', numbering off'}: ${step.writtenPerSecond} written/s, ${step.deliveredPerSecond} delivered/s, lag p50 ${step.lagMs.p50} ms p99 ${step.lagMs.p99} ms, ${step.sequencerRunsPerSecond} sequencer runs/s (${step.eventsPerRun} events each), DB ${step.dbCpuMicrosPerEvent ?? 'n/a'} µs/event, Node ${step.nodeCpuMicrosPerEvent} µs/event`,
    );
    steps.push(step);
  }

  await probe.end();
  await eventLog.stop();
  await bus.close();
  await database.close();
  await prepared.server.stop();

  const report = { date: new Date().toISOString(), machine: machineInfo(), database: prepared.source, steps };
  await writeReport(report, { latest: 'event-log-latest.json' });
  const table = markdownTable(
    [
      'writers',
      'numbering',
      'written/s',
      'delivered/s',
      'lag p50 ms',
      'lag p99 ms',
      'sequencer runs/s',
      'events per run',
      'DB CPU µs/event',
      'Node CPU µs/event',
    ],
    steps.map((s) => [
      s.writers,
      s.numbering ? 'on' : 'off',
      s.writtenPerSecond,
      s.deliveredPerSecond,
      s.lagMs.p50,
      s.lagMs.p99,
      s.sequencerRunsPerSecond,
      s.eventsPerRun,
      s.dbCpuMicrosPerEvent ?? 'n/a',
      s.nodeCpuMicrosPerEvent,
    ]),
  );
  process.stdout.write(`\nevent log, ${report.date}, ${prepared.source}\n\n${table}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`event-log bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
