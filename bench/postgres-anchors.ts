/**
 * The settings each anchor of the PostgreSQL bench runs with, in one place, shared by the
 * driver (which sends) and `pg-anchor-worker.ts` (which works), and quoted in the results.
 * Each anchor gets its best-known fast settings for no-op jobs, as its own docs give them, while
 * keeping at most `concurrency` jobs in flight, as Conveyor does.
 */
import type {} from 'graphile-worker'; // declares the global GraphileConfig namespace (its Preset type)
import type PgBoss from 'pg-boss';

export type AnchorName = 'bullmq' | 'pgboss' | 'graphile';

/** The queue (BullMQ, pg-boss) every anchor's jobs go to; graphile-worker uses the task name only. */
export const ANCHOR_QUEUE = 'bench';

/** BullMQ's PostgreSQL connection: the config-object form, the only one that carries a schema. */
export function bullmqConnection(url: string, schema: string, migrate: boolean) {
  return { connectionString: url, schema, migrate };
}

/** pg-boss's constructor options: its own schema; the maintenance and cron loops off in producers. */
export function pgbossOptions(url: string, schema: string, producer = false): PgBoss.ConstructorOptions {
  return { connectionString: url, schema, ...(producer ? { supervise: false, schedule: false } : {}) };
}

/** pg-boss 10's fastest polling (its minimum, 0.5 s) and one fetch of `concurrency` jobs per loop. */
export const PGBOSS_WORK_OPTIONS = (concurrency: number): PgBoss.WorkOptions => ({ batchSize: concurrency, pollingIntervalSeconds: 0.5 });

/**
 * graphile-worker's documented batching (worker.graphile.org/docs/performance): a local queue of
 * `concurrency + 1` jobs (its recommended start) and completions batched with no added delay.
 */
export const GRAPHILE_WORKER_OPTIONS = (concurrency: number) => ({
  concurrency,
  preset: { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0 } } satisfies GraphileConfig.Preset,
});

/** What the results say each anchor ran with. */
export const ANCHOR_SETTINGS: Record<AnchorName, string> = {
  bullmq: '`new Worker(queue, noop, { connection: { connectionString, schema }, concurrency: c }, createPostgresBackend)`, BullMQ\'s defaults otherwise (completed jobs kept, LISTEN/NOTIFY wake-ups)',
  pgboss: 'one `boss.work(queue, { batchSize: c, pollingIntervalSeconds: 0.5 }, jobs => Promise.all(jobs.map(noop)))` (0.5 s is its minimum; pg-boss 10 has no per-worker concurrency, a batch is its way to have c jobs at once), queue policy standard, defaults otherwise',
  graphile: '`run({ concurrency: c, schema, preset: { worker: { localQueue: { size: c + 1 }, completeJobBatchDelay: 0 } } })` (its documented batching), defaults otherwise',
};
