/**
 * The measurements of the Redis bench, each run on one side in a fresh space (a unique key
 * prefix) whose keys are deleted right after:
 *
 * - processing  `n` no-op jobs enqueued first (bulk), then one worker process; jobs/s from the
 *               jobs' own timestamps (first start to last finish), Redis commands and CPU from
 *               `INFO` deltas around the run, Node CPU from the worker process.
 * - enqueue     `n` jobs sent sequentially, concurrently or in bulk; jobs/s by the driver's clock.
 * - latency     one idle worker process, jobs sent at a steady rate; start − enqueue per job.
 * - memory      `used_memory` delta of `n` queued jobs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { delta, deleteKeys, snapshot, usedMemory, type ServerDelta } from './redis-server.js';
import { WorkerProcess, type EnqueueMode, type Side, type Space } from './redis-side.js';

export interface MeasureContext {
  admin: Redis;
  /** Unique to this run; every prefix contains it. */
  runToken: string;
  nodeArgs: readonly string[];
  timeoutMs: number;
}

let spaces = 0;

/** Run `fn` in a fresh space of `side`, then close it and delete its keys. */
async function inSpace<T>(ctx: MeasureContext, side: Side, tag: string, fn: (space: Space) => Promise<T>): Promise<T> {
  const space = await side.open(`${ctx.runToken}-${String(++spaces).padStart(3, '0')}-${tag}`);
  try {
    return await fn(space);
  } finally {
    await space.close();
    await deleteKeys(ctx.admin, space.prefix);
  }
}

export interface ProcessingFigures {
  jobsPerSec: number;
  /** Last finish − first start, from the jobs' timestamps. */
  storeMs: number;
  /** Spawn to the progress line that said all were done (startup included). */
  wallMs: number;
  server: ServerDelta;
  commandsPerJob: number;
  redisCpuUsPerJob: number;
  nodeCpuUsPerJob: number;
  /** Jobs delivered more than once (0 expected: no worker died). */
  redelivered: number;
  completed: number;
  timedOut: boolean;
}

export async function measureProcessing(ctx: MeasureContext, side: Side, n: number, concurrency: number): Promise<ProcessingFigures> {
  return inSpace(ctx, side, `c${concurrency}`, async (space) => {
    await space.enqueue('bulk', n);
    const before = await snapshot(ctx.admin);
    const t0 = performance.now();
    const worker = new WorkerProcess(space.workerCommand(concurrency), ctx.nodeArgs);
    let finished: boolean;
    let wallMs: number;
    let after: Awaited<ReturnType<typeof snapshot>>;
    try {
      finished = await worker.waitDone(n, t0 + ctx.timeoutMs);
      wallMs = performance.now() - t0;
      after = await snapshot(ctx.admin);
    } catch (err) {
      await worker.stop().catch(() => undefined);
      throw err;
    }
    const exit = await worker.stop();
    const times = await space.completed(n);
    let first = Infinity;
    let last = -Infinity;
    for (const t of times) {
      if (t.startedAt < first) first = t.startedAt;
      if (t.finishedAt > last) last = t.finishedAt;
    }
    const storeMs = Math.max(1, last - first);
    const server = delta(before, after);
    return {
      jobsPerSec: times.length / (storeMs / 1000),
      storeMs,
      wallMs,
      server,
      commandsPerJob: server.totalCalls / n,
      redisCpuUsPerJob: (server.cpuSeconds * 1e6) / n,
      nodeCpuUsPerJob: exit.cpuUs / n,
      redelivered: times.filter((t) => t.deliveries > 1).length,
      completed: times.length,
      timedOut: !finished,
    };
  });
}

/** Jobs/s of sending `n` no-op jobs in `mode`. */
export async function measureEnqueue(ctx: MeasureContext, side: Side, mode: EnqueueMode, n: number): Promise<number> {
  return inSpace(ctx, side, `e-${mode}`, async (space) => {
    const t0 = performance.now();
    await space.enqueue(mode, n);
    const seconds = (performance.now() - t0) / 1000;
    const waiting = await space.waiting();
    if (waiting !== n) throw new Error(`${side.name} enqueue ${mode}: expected ${n} waiting jobs, found ${waiting}`);
    return n / seconds;
  });
}

export interface LatencyFigures {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Jobs measured. */
  jobs: number;
  /** Send rate the producer reached, jobs/s. */
  sentPerSec: number;
}

/** How long the worker sits idle (blocked on Redis) before the first measured job. */
const IDLE_BEFORE_MS = 500;

/**
 * Enqueue→start latency with an idle worker at `concurrency`: one warm-up job, a pause, then
 * `rate` jobs/s for `seconds`, each sent on schedule without waiting for the previous one.
 */
export async function measureLatency(ctx: MeasureContext, side: Side, rate: number, seconds: number, concurrency: number): Promise<LatencyFigures> {
  return inSpace(ctx, side, 'latency', async (space) => {
    const total = Math.round(rate * seconds);
    const worker = new WorkerProcess(space.workerCommand(concurrency), ctx.nodeArgs);
    try {
      await worker.ready;
      await space.send(-1); // warm-up: the worker is connected and has run one job
      if (!(await worker.waitDone(1, performance.now() + ctx.timeoutMs))) throw new Error(`${side.name} latency: the warm-up job did not run`);
      await sleep(IDLE_BEFORE_MS);
      const intervalMs = 1000 / rate;
      const sends: Promise<unknown>[] = [];
      const t0 = performance.now();
      for (let i = 0; i < total; i++) {
        const wait = t0 + i * intervalMs - performance.now();
        if (wait >= 1) await sleep(wait);
        sends.push(space.send(i));
      }
      await Promise.all(sends);
      const sentPerSec = total / ((performance.now() - t0) / 1000);
      if (!(await worker.waitDone(total + 1, performance.now() + ctx.timeoutMs))) throw new Error(`${side.name} latency: jobs did not all run`);
      await worker.stop();
      const times = (await space.completed(total + 1)).sort((a, b) => a.enqueuedAt - b.enqueuedAt).slice(1); // drop the warm-up
      const latencies = times.map((t) => t.startedAt - t.enqueuedAt).sort((a, b) => a - b);
      const at = (p: number) => latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)]!;
      return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: latencies.at(-1)!, jobs: latencies.length, sentPerSec };
    } catch (err) {
      await worker.stop().catch(() => undefined);
      throw err;
    }
  });
}

/** Bytes of `used_memory` per queued job, `n` jobs sent in bulk. */
export async function measureMemory(ctx: MeasureContext, side: Side, n: number): Promise<number> {
  return inSpace(ctx, side, 'memory', async (space) => {
    const before = await usedMemory(ctx.admin);
    await space.enqueue('bulk', n);
    const after = await usedMemory(ctx.admin);
    const waiting = await space.waiting();
    if (waiting !== n) throw new Error(`${side.name} memory: expected ${n} waiting jobs, found ${waiting}`);
    return (after - before) / n;
  });
}
