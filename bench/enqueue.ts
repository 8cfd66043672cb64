/**
 * Enqueue scenarios: how fast a client sends jobs, one by one, concurrently, and in batches.
 * Each runs on its own fresh file; the store is opened before the clock starts.
 */
import { buildJob } from '../src/message.js';
import { benchApp, NOOP_TASK, type BenchApp } from './app.js';
import { flushDirtyPages } from './disk.js';

/** Jobs per `store.jobsEnqueue` call in the batch scenario, and when preparing processing runs. */
export const ENQUEUE_BATCH = 1_000;
/** Delays in flight at once in the concurrent scenario. */
export const CONCURRENT_CHUNK = 1_000;

export type EnqueueMode = 'sequential' | 'concurrent' | 'batch';

/** Jobs per second of sending `n` no-op jobs in `mode` to a fresh store at `file`. */
export async function measureEnqueue(file: string, mode: EnqueueMode, n: number): Promise<number> {
  const bench = benchApp(file);
  try {
    await bench.app.store.queueStats(); // open and migrate outside the timing
    flushDirtyPages();
    const t0 = performance.now();
    if (mode === 'sequential') {
      for (let i = 0; i < n; i++) await bench.noop.delay(i);
    } else if (mode === 'concurrent') {
      for (let i = 0; i < n; i += CONCURRENT_CHUNK) {
        const size = Math.min(CONCURRENT_CHUNK, n - i);
        await Promise.all(Array.from({ length: size }, (_, j) => bench.noop.delay(i + j)));
      }
    } else {
      await enqueueBatches(bench, n);
    }
    const seconds = (performance.now() - t0) / 1000;
    await expectPending(bench, n);
    return n / seconds;
  } finally {
    await bench.app.close();
  }
}

/** Send `n` no-op jobs through `store.jobsEnqueue`, {@link ENQUEUE_BATCH} per call, built as `delay` builds them. */
export async function enqueueBatches({ app, noop }: BenchApp, n: number): Promise<void> {
  for (let i = 0; i < n; i += ENQUEUE_BATCH) {
    const size = Math.min(ENQUEUE_BATCH, n - i);
    const jobs = Array.from({ length: size }, (_, j) => buildJob(NOOP_TASK, [i + j], noop.options.job, {}));
    await app.store.jobsEnqueue(jobs);
  }
}

async function expectPending({ app }: BenchApp, n: number): Promise<void> {
  const pending = (await app.store.queueStats()).reduce((sum, q) => sum + q.counts.PENDING, 0);
  if (pending !== n) throw new Error(`enqueue: expected ${n} PENDING jobs in the store, found ${pending}`);
}
