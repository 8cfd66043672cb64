/**
 * Conveyor's side of the PostgreSQL bench: the bench app (`app.ts`) on
 * `postgres://…?schema=<fresh schema>`, sending as a user would (`delay`, `store.jobsEnqueue` for
 * bulk, `applyAsync(args, { tx })` in a transaction), and `worker.ts` processes on the same app.
 */
import { fileURLToPath } from 'node:url';
import { benchApp } from './app.js';
import { enqueueBatches } from './enqueue.js';
import type { PgSide, PgSpace, StartTimes } from './postgres-side.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

/** The store URL of `pgUrl` with the store's schema. */
export function conveyorPgUrl(pgUrl: string, schema: string): string {
  return `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${encodeURIComponent(schema)}`;
}

export function conveyorPgSide(pgUrl: string): PgSide {
  return {
    name: 'conveyor',
    label: 'Conveyor PostgresStore (this repo)',
    async open(schema) {
      const url = conveyorPgUrl(pgUrl, schema);
      const bench = benchApp(url);
      const { app, noop } = bench;
      await app.store.queueStats(); // connect and migrate outside any timing
      const space: PgSpace = {
        schema,
        enqueueBulk: (n) => enqueueBatches(bench, n), // store.jobsEnqueue of 1,000 jobs built as delay builds them
        send: (i) => noop.delay(i),
        sendInTx: (client, i) => noop.applyAsync([i], { tx: client }),
        async waiting() {
          return (await app.store.queueStats()).reduce((sum, q) => sum + q.counts.PENDING, 0);
        },
        workerCommand: (concurrency) => ({ script: WORKER_SCRIPT, args: [url, String(concurrency)] }),
        async startTimes(): Promise<StartTimes[]> {
          const jobs = await app.store.jobsList({ states: ['SUCCESS'], limit: 1_000_000 });
          return jobs.map((j) => ({ enqueuedAt: j.enqueuedAt, startedAt: j.startedAt! }));
        },
        close: () => app.close(),
      };
      return space;
    },
  };
}
