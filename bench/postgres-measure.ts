/**
 * The measurements of the PostgreSQL bench, each run on one side in a fresh schema that is
 * dropped right after:
 *
 * - processing  `n` no-op jobs enqueued first (bulk), then one worker process at concurrency C;
 *               jobs/s by the driver's clock between the worker's first progress line that
 *               counted a finished job and the one that counted the last (or the timeout), so
 *               startup does not count and every side is timed the same way.
 * - bulk        `n` jobs sent in calls of 1,000; jobs/s by the driver's clock.
 * - tx          `n` jobs, each sent in its own caller's transaction (BEGIN, the side's send on
 *               that client, COMMIT) on one node-postgres client; jobs/s by the driver's clock.
 * - latency     one idle worker process, jobs sent at a steady rate; start − enqueue per job,
 *               from each side's own timestamps. Jobs not started by the deadline count with
 *               their wait so far, and the figure is then a lower bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { WorkerProcess } from './redis-side.js';
import type { PgSide, PgSpace } from './postgres-side.js';

export interface MeasureContext {
  admin: pg.Pool;
  /** Unique to this run; every schema starts with it. */
  runToken: string;
  timeoutMs: number;
}

let spaces = 0;

/** Drop a schema of this run (and everything in it). */
export async function dropSchema(admin: pg.Pool, schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
}

/** Run `fn` in a fresh schema of `side`, then close it and drop the schema. */
export async function inSpace<T>(ctx: MeasureContext, side: PgSide, tag: string, fn: (space: PgSpace) => Promise<T>): Promise<T> {
  const schema = `${ctx.runToken}_${String(++spaces).padStart(3, '0')}_${tag}_${side.name}`;
  try {
    const space = await side.open(schema);
    try {
      return await fn(space);
    } finally {
      await space.close();
    }
  } finally {
    await dropSchema(ctx.admin, schema);
  }
}

/** Resolve when the worker has done `n` jobs (true) or at the deadline (false), and when. */
async function doneAt(worker: WorkerProcess, n: number, deadline: number): Promise<{ finished: boolean; at: number; done: number }> {
  const finished = await worker.waitDone(n, deadline);
  return { finished, at: performance.now(), done: worker.done };
}

export interface ProcessingFigures {
  jobsPerSec: number;
  /** Jobs the worker had done when the run ended (n unless it timed out). */
  done: number;
  /** First finished job to the last one (or the timeout), ms. */
  windowMs: number;
  timedOut: boolean;
}

export async function measureProcessing(ctx: MeasureContext, side: PgSide, n: number, concurrency: number): Promise<ProcessingFigures> {
  return inSpace(ctx, side, `c${concurrency}`, async (space) => {
    await space.enqueueBulk(n);
    const worker = new WorkerProcess(space.workerCommand(concurrency), []);
    try {
      const deadline = performance.now() + ctx.timeoutMs;
      const first = await doneAt(worker, 1, deadline);
      const last = first.finished ? await doneAt(worker, n, deadline) : first;
      const windowMs = Math.max(1, last.at - first.at);
      return { jobsPerSec: first.finished ? ((last.done - first.done) / windowMs) * 1000 : 0, done: last.done, windowMs, timedOut: !last.finished };
    } finally {
      await worker.stop();
    }
  });
}

/** Jobs/s of sending `n` no-op jobs in calls of 1,000. */
export async function measureBulk(ctx: MeasureContext, side: PgSide, n: number): Promise<number> {
  return inSpace(ctx, side, 'bulk', async (space) => {
    const t0 = performance.now();
    await space.enqueueBulk(n);
    const seconds = (performance.now() - t0) / 1000;
    await expectWaiting(side, space, n);
    return n / seconds;
  });
}

/** Jobs/s of `n` transactions on one client, each BEGIN, one send, COMMIT; undefined if the side cannot. */
export async function measureTx(ctx: MeasureContext, side: PgSide, n: number): Promise<number | undefined> {
  return inSpace(ctx, side, 'tx', async (space) => {
    const sendInTx = space.sendInTx;
    if (!sendInTx) return undefined;
    const client = await ctx.admin.connect();
    try {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await client.query('BEGIN');
        try {
          await sendInTx(client, i);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      await expectWaiting(side, space, n);
      return n / seconds;
    } finally {
      client.release();
    }
  });
}

async function expectWaiting(side: PgSide, space: PgSpace, n: number): Promise<void> {
  const waiting = await space.waiting();
  if (waiting !== n) throw new Error(`${side.name}: expected ${n} waiting jobs, found ${waiting}`);
}

export interface LatencyFigures {
  p50: number;
  p99: number;
  max: number;
  /** Jobs sent. */
  jobs: number;
  /** Jobs that had not started when the worker was stopped (their wait so far is counted). */
  notStarted: number;
  /** Send rate the producer reached, jobs/s. */
  sentPerSec: number;
}

/** How long the worker sits idle (waiting on LISTEN, or polling) before the first measured job. */
const IDLE_BEFORE_MS = 1_000;

/**
 * Enqueue→start latency with an idle worker at `concurrency`: one warm-up job, a pause, then
 * `rate` jobs/s for `seconds`, each sent on schedule without waiting for the previous one.
 * The worker then gets until the timeout to start them all.
 */
export async function measureLatency(ctx: MeasureContext, side: PgSide, rate: number, seconds: number, concurrency: number): Promise<LatencyFigures> {
  return inSpace(ctx, side, 'latency', async (space) => {
    const total = Math.round(rate * seconds);
    const worker = new WorkerProcess(space.workerCommand(concurrency), []);
    let stoppedAt: number;
    let sentAllAt: number;
    let sentPerSec: number;
    try {
      await worker.ready;
      await space.send(-1); // warm-up: the worker is connected and has run one job
      if (!(await worker.waitDone(1, performance.now() + ctx.timeoutMs))) throw new Error(`${side.name} latency: the warm-up job did not run`);
      await sleep(IDLE_BEFORE_MS); // the idle time is what is measured, not a wait for a condition
      const intervalMs = 1000 / rate;
      const sends: Promise<unknown>[] = [];
      const t0 = performance.now();
      for (let i = 0; i < total; i++) {
        const wait = t0 + i * intervalMs - performance.now();
        if (wait >= 1) await sleep(wait);
        sends.push(space.send(i));
      }
      await Promise.all(sends);
      sentPerSec = total / ((performance.now() - t0) / 1000);
      sentAllAt = Date.now();
      await worker.waitDone(total + 1, performance.now() + ctx.timeoutMs);
      stoppedAt = Date.now();
    } finally {
      await worker.stop();
    }
    const times = (await space.startTimes()).sort((a, b) => a.enqueuedAt - b.enqueuedAt).slice(1); // drop the warm-up
    const latencies = times.map((t) => t.startedAt - t.enqueuedAt);
    // Jobs the worker never started waited at least from the last send to the stop.
    const notStarted = total - latencies.length;
    for (let i = 0; i < notStarted; i++) latencies.push(stoppedAt - sentAllAt);
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)]!;
    return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1)!, jobs: total, notStarted, sentPerSec };
  });
}
