/**
 * One worker process of an anchor in the PostgreSQL bench, the counterpart of `worker.ts`:
 *
 *   node dist/bench/pg-anchor-worker.js <bullmq|pgboss|graphile> <url> <schema> <concurrency> [--times <file>] [--report]
 *
 * Runs a no-op handler (returns null, as Conveyor's no-op task does) on the anchor's queue in
 * `schema` until SIGTERM or SIGINT, then shuts down gracefully and exits 0. `--report` prints
 * progress as `worker.ts` does (redis-progress.ts). graphile-worker deletes a job when it
 * completes, so its timestamps cannot be read back from the database afterwards: with
 * `--times`, this process writes each job's `created_at` and `locked_at` (the database's clock,
 * as the job row had them) to `<file>` as JSON when it stops. The settings of each anchor are in
 * ANCHOR_SETTINGS (postgres-anchors.ts), so the results quote what ran.
 */
import { writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { createPostgresBackend, Worker as BullWorker } from 'bullmq';
import { Logger as GraphileLogger, run as runGraphile, type WorkerEvents } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { NOOP_TASK } from './app.js';
import { ANCHOR_QUEUE, bullmqConnection, GRAPHILE_WORKER_OPTIONS, PGBOSS_WORK_OPTIONS, pgbossOptions, type AnchorName } from './postgres-anchors.js';
import { ProgressReporter } from './redis-progress.js';

const argv = process.argv.slice(2);
const report = argv.includes('--report');
const timesAt = argv.indexOf('--times');
const timesFile = timesAt >= 0 ? argv[timesAt + 1] : undefined;
const [anchor, url, schema, concurrencyArg] = argv.filter((a, i) => !a.startsWith('--') && (timesAt < 0 || i !== timesAt + 1)) as [AnchorName, string, string, string];
const concurrency = Number(concurrencyArg);
if (!['bullmq', 'pgboss', 'graphile'].includes(anchor) || !url || !schema || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: node dist/bench/pg-anchor-worker.js <bullmq|pgboss|graphile> <url> <schema> <concurrency> [--times <file>] [--report]\n');
  process.exit(2);
}

let done = 0;
/** [created_at, locked_at] in epoch ms per job, for graphile-worker's `--times`. */
const times: [number, number][] = [];
// Created first, so its CPU baseline leaves module loading out and takes connecting in.
const reporter = report ? new ProgressReporter(() => done) : undefined;

/** Start the anchor's worker; answers how to stop it gracefully. */
async function start(): Promise<() => Promise<void>> {
  if (anchor === 'bullmq') {
    const worker = new BullWorker(ANCHOR_QUEUE, async () => null, { connection: bullmqConnection(url, schema, false), concurrency }, createPostgresBackend);
    worker.on('completed', () => void done++);
    worker.on('error', (err) => process.stderr.write(`bullmq worker: ${String(err)}\n`));
    return () => worker.close();
  }
  if (anchor === 'pgboss') {
    const boss = new PgBoss(pgbossOptions(url, schema));
    boss.on('error', (err) => process.stderr.write(`pg-boss worker: ${String(err)}\n`));
    await boss.start();
    // pg-boss 10 has no per-worker concurrency: one `work` loop fetches up to `batchSize` jobs
    // and hands them to the handler together; the handler runs them all at once.
    await boss.work(ANCHOR_QUEUE, PGBOSS_WORK_OPTIONS(concurrency), async (jobs) => {
      await Promise.all(jobs.map(async () => null));
      done += jobs.length;
    });
    return () => boss.stop({ graceful: true, wait: true, timeout: 5_000 });
  }
  const events: WorkerEvents = new EventEmitter();
  events.on('job:complete', ({ job, error }) => {
    if (error) return;
    done++;
    if (timesFile) times.push([job.created_at.getTime(), job.locked_at?.getTime() ?? Number.NaN]);
  });
  const runner = await runGraphile({
    ...GRAPHILE_WORKER_OPTIONS(concurrency),
    connectionString: url,
    schema,
    events,
    noHandleSignals: true,
    logger: quietGraphileLogger(),
    taskList: { [NOOP_TASK]: async () => {} }, // a no-op (graphile-worker tasks answer nothing)
  });
  return () => runner.stop();
}

/** graphile-worker logs every job at info; keep warnings and errors only. */
function quietGraphileLogger(): GraphileLogger {
  return new GraphileLogger((scope) => (level, message) => {
    if (level === 'error' || level === 'warning') process.stderr.write(`graphile-worker ${scope.label ?? ''}: ${message}\n`);
  });
}

const stop = await start();

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  reporter?.finish();
  try {
    await stop();
    if (timesFile) writeFileSync(timesFile, JSON.stringify(times));
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${anchor} worker: shutdown failed: ${String(err)}\n`);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
