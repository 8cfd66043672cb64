/**
 * Throughput as the server sees it: it samples the store's queue counts every few seconds and
 * keeps how many jobs became SUCCESS or FAILURE between samples, in 30 s buckets, for the last
 * 15 minutes. Nothing is stored: a fresh server starts with an empty chart.
 *
 * The counts are of jobs the store still holds, so a delta is a lower bound: a job that
 * finished and whose result expired (or that was retried out of FAILURE) between two samples is
 * not seen, and a negative delta counts as 0.
 */
import type { QueueStats, Store } from '../store/store.js';
import type { ThroughputView } from './schemas.js';

export interface ThroughputOptions {
  /** Width of a bucket. @default 30000 */
  bucketMs?: number;
  /** How far back to keep. @default 900000 (15 min) */
  windowMs?: number;
  /** How often `start()` samples. @default 5000 */
  sampleEveryMs?: number;
}

interface Bucket {
  at: number;
  succeeded: number;
  failed: number;
}

export class ThroughputSampler {
  readonly bucketMs: number;
  readonly windowMs: number;
  readonly sampleEveryMs: number;
  readonly #store: () => Store;
  readonly #now: () => number;
  /** Totals at the last sample; undefined before the first. */
  #last: { succeeded: number; failed: number } | undefined;
  #buckets: Bucket[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(store: () => Store, now: () => number, options: ThroughputOptions = {}) {
    this.#store = store;
    this.#now = now;
    this.bucketMs = options.bucketMs ?? 30_000;
    this.windowMs = options.windowMs ?? 900_000;
    this.sampleEveryMs = options.sampleEveryMs ?? 5_000;
  }

  /** Sample every `sampleEveryMs` until `stop()`. The timer does not keep the process alive. */
  start(): void {
    if (this.#timer) return;
    void this.runOnce().catch(() => {});
    this.#timer = setInterval(() => {
      // One sample at a time: a slow store skips a beat rather than piling up reads.
      if (!this.#running) void this.runOnce().catch(() => {});
    }, this.sampleEveryMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Read the queue counts once and record them. */
  async runOnce(): Promise<void> {
    const run = this.#store().queueStats().then((stats) => this.observe(stats));
    this.#running = run;
    try {
      await run;
    } finally {
      if (this.#running === run) this.#running = undefined;
    }
  }

  /** Record counts read elsewhere (the events loop reads them anyway), at the clock's now. */
  observe(stats: readonly QueueStats[]): void {
    const now = this.#now();
    let succeeded = 0;
    let failed = 0;
    for (const q of stats) {
      succeeded += q.counts.SUCCESS;
      failed += q.counts.FAILURE;
    }
    const last = this.#last;
    this.#last = { succeeded, failed };
    if (!last) return; // the first sample is the baseline
    const ds = Math.max(0, succeeded - last.succeeded);
    const df = Math.max(0, failed - last.failed);
    if (ds === 0 && df === 0) return;
    const at = Math.floor(now / this.bucketMs) * this.bucketMs;
    let bucket = this.#buckets.at(-1);
    if (!bucket || bucket.at !== at) {
      bucket = { at, succeeded: 0, failed: 0 };
      this.#buckets.push(bucket);
    }
    bucket.succeeded += ds;
    bucket.failed += df;
    const oldest = at - this.windowMs;
    while (this.#buckets.length && this.#buckets[0]!.at <= oldest) this.#buckets.shift();
  }

  /** Every bucket of the window, oldest first, empty ones included (a chart needs no gaps). */
  view(): ThroughputView {
    const end = Math.floor(this.#now() / this.bucketMs) * this.bucketMs;
    const n = Math.round(this.windowMs / this.bucketMs);
    const byStart = new Map(this.#buckets.map((b) => [b.at, b]));
    const points = [];
    for (let i = n - 1; i >= 0; i--) {
      const at = end - i * this.bucketMs;
      const b = byStart.get(at);
      points.push({ at, succeeded: b?.succeeded ?? 0, failed: b?.failed ?? 0 });
    }
    return { bucketMs: this.bucketMs, points };
  }
}
