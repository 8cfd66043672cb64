/**
 * Conveyor's side of the Redis bench: the bench app (`app.ts`) on
 * `redis://…?prefix=<unique prefix>`, sending as a user would (`delay`, or `store.jobsEnqueue`
 * for bulk), and `worker.ts` processes running the same app.
 */
import { fileURLToPath } from 'node:url';
import { benchApp } from './app.js';
import { enqueueBatches } from './enqueue.js';
import { CHUNK, type EnqueueMode, type JobTimes, type Side, type Space } from './redis-side.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

/** The store URL of `redisUrl` with a key prefix. */
export function conveyorStoreUrl(redisUrl: string, prefix: string): string {
  return `${redisUrl}${redisUrl.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(prefix)}`;
}

export function conveyorSide(redisUrl: string): Side {
  return {
    name: 'conveyor',
    label: 'Conveyor RedisStore (this repo)',
    async open(token) {
      const prefix = `${token}-cv`;
      const url = conveyorStoreUrl(redisUrl, prefix);
      const bench = benchApp(url);
      const { app, noop } = bench;
      await app.store.queueStats(); // connect (and load scripts) outside any timing
      const space: Space = {
        prefix,
        async enqueue(mode: EnqueueMode, n: number) {
          if (mode === 'sequential') {
            for (let i = 0; i < n; i++) await noop.delay(i);
          } else if (mode === 'concurrent') {
            for (let i = 0; i < n; i += CHUNK) {
              const size = Math.min(CHUNK, n - i);
              await Promise.all(Array.from({ length: size }, (_, j) => noop.delay(i + j)));
            }
          } else {
            await enqueueBatches(bench, n); // store.jobsEnqueue of CHUNK jobs built as delay builds them
          }
        },
        send: (i) => noop.delay(i),
        async waiting() {
          return (await app.store.queueStats()).reduce((sum, q) => sum + q.counts.PENDING, 0);
        },
        workerCommand: (concurrency) => ({ script: WORKER_SCRIPT, args: [url, String(concurrency)] }),
        async completed(n): Promise<JobTimes[]> {
          const jobs = await app.store.jobsList({ states: ['SUCCESS'], limit: n });
          return jobs.map((j) => ({ enqueuedAt: j.enqueuedAt, startedAt: j.startedAt!, finishedAt: j.finishedAt!, deliveries: j.deliveries }));
        },
        close: () => app.close(),
      };
      return space;
    },
  };
}
