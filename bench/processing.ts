/**
 * Processing scenarios: `n` no-op jobs are enqueued first, then worker processes are spawned
 * (`node dist/bench/worker.js <file> <concurrency>`) and the driver polls `queueStats` until all
 * are done.
 *
 * Throughput is read from the store, not from the driver's clock: n / (last finishedAt − first
 * startedAt) over all jobs, so process startup and the poll interval do not count. The wall time,
 * spawn to the poll that saw the last job done, is reported beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Store } from '../src/index.js';
import { benchApp } from './app.js';
import { flushDirtyPages } from './disk.js';
import { enqueueBatches } from './enqueue.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));
const POLL_MS = 100;
const STOP_TIMEOUT_MS = 15_000;

export interface ProcessingParams {
  file: string;
  n: number;
  concurrency: number;
  processes: number;
  /** Give up waiting for completion after this long. */
  timeoutMs: number;
  /** Extra node flags for worker processes (e.g. `--cpu-prof`). */
  nodeArgs: readonly string[];
}

export interface ProcessingFigures {
  /** n / (max finishedAt − min startedAt), from the store. */
  jobsPerSec: number;
  /** max finishedAt − min startedAt. */
  storeMs: number;
  /** Spawn of the first worker to the poll that saw every job done. */
  wallMs: number;
  /** Jobs completed by each worker process, largest first. */
  perWorker: number[];
  /** Jobs delivered more than once (should be 0: no worker died). */
  redelivered: number;
  /** Jobs in SUCCESS at the end. */
  succeeded: number;
  timedOut: boolean;
}

export async function measureProcessing(p: ProcessingParams): Promise<ProcessingFigures> {
  const bench = benchApp(p.file);
  const { store } = bench.app;
  try {
    await enqueueBatches(bench, p.n);
    flushDirtyPages();
    const t0 = performance.now();
    const workers = Array.from({ length: p.processes }, () => spawnWorker(p));
    let timedOut = false;
    let wallMs: number;
    try {
      timedOut = !(await waitUntilDone(bench.app.store, p.n, t0 + p.timeoutMs, workers));
      wallMs = performance.now() - t0;
    } finally {
      await Promise.all(workers.map(stopWorker));
    }
    const jobs = await store.jobsList({ states: ['SUCCESS'], limit: p.n });
    let first = Infinity;
    let last = -Infinity;
    const byWorker = new Map<string, number>();
    for (const job of jobs) {
      first = Math.min(first, job.startedAt!);
      last = Math.max(last, job.finishedAt!);
      byWorker.set(job.worker!, (byWorker.get(job.worker!) ?? 0) + 1);
    }
    const storeMs = Math.max(1, last - first);
    return {
      jobsPerSec: jobs.length / (storeMs / 1000),
      storeMs,
      wallMs,
      perWorker: [...byWorker.values()].sort((a, b) => b - a),
      redelivered: jobs.filter((j) => j.token > 1).length,
      succeeded: jobs.length,
      timedOut,
    };
  } finally {
    await bench.app.close();
  }
}

function spawnWorker(p: ProcessingParams): ChildProcess {
  // The worker logs at warn to stdout: send it to our stderr, away from the table.
  return spawn(process.execPath, [...p.nodeArgs, WORKER_SCRIPT, p.file, String(p.concurrency)], { stdio: ['ignore', 2, 2] });
}

/** Poll until every job is final; false at the deadline. Throws if a worker process dies. */
async function waitUntilDone(store: Store, n: number, deadline: number, workers: ChildProcess[]): Promise<boolean> {
  for (;;) {
    const stats = await store.queueStats();
    const open = stats.reduce((sum, q) => sum + q.counts.PENDING + q.counts.STARTED + q.counts.RETRY, 0);
    const finished = stats.reduce((sum, q) => sum + q.counts.SUCCESS + q.counts.FAILURE + q.counts.REVOKED, 0);
    if (open === 0 && finished >= n) return true;
    const dead = workers.find((w) => w.exitCode !== null || w.signalCode !== null);
    if (dead) throw new Error(`worker process ${dead.pid} exited early (code ${dead.exitCode}, signal ${dead.signalCode})`);
    if (performance.now() > deadline) return false;
    await sleep(POLL_MS);
  }
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
