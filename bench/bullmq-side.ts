/**
 * BullMQ's side of the Redis bench: a `Queue` on a unique prefix with BullMQ's defaults
 * (completed jobs kept, as Conveyor keeps results), the same payload as Conveyor's no-op job
 * (name `bench.noop`, data `[i]`), and `bullmq-worker.ts` processes. Job timestamps are read
 * from BullMQ's own job hashes: `timestamp` (set by `add`), `processedOn` (set when a worker
 * moved it to active) and `finishedOn`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { NOOP_TASK } from './app.js';
import { CHUNK, type EnqueueMode, type JobTimes, type Side, type Space } from './redis-side.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./bullmq-worker.js', import.meta.url));
const QUEUE = 'default';
/** Job hashes read per pipeline when collecting timestamps. */
const READ_BATCH = 5_000;

export function bullmqVersion(): string {
  return (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
}

/** `admin` is the driver's own connection, used to read job hashes in pipelines. */
export function bullmqSide(redisUrl: string, admin: Redis): Side {
  return {
    name: 'bullmq',
    label: `BullMQ ${bullmqVersion()}`,
    async open(token) {
      const prefix = `${token}-bq`;
      const queue = new Queue(QUEUE, { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix });
      await queue.waitUntilReady();
      await queue.getWaitingCount(); // load scripts outside any timing
      const space: Space = {
        prefix,
        async enqueue(mode: EnqueueMode, n: number) {
          if (mode === 'sequential') {
            for (let i = 0; i < n; i++) await queue.add(NOOP_TASK, [i]);
          } else if (mode === 'concurrent') {
            for (let i = 0; i < n; i += CHUNK) {
              const size = Math.min(CHUNK, n - i);
              await Promise.all(Array.from({ length: size }, (_, j) => queue.add(NOOP_TASK, [i + j])));
            }
          } else {
            for (let i = 0; i < n; i += CHUNK) {
              const size = Math.min(CHUNK, n - i);
              await queue.addBulk(Array.from({ length: size }, (_, j) => ({ name: NOOP_TASK, data: [i + j] })));
            }
          }
        },
        send: (i) => queue.add(NOOP_TASK, [i]),
        waiting: () => queue.getWaitingCount(),
        workerCommand: (concurrency) => ({ script: WORKER_SCRIPT, args: [redisUrl, prefix, QUEUE, String(concurrency)] }),
        async completed(n): Promise<JobTimes[]> {
          const ids = await admin.zrange(`${prefix}:${QUEUE}:completed`, '0', String(n - 1));
          const times: JobTimes[] = [];
          for (let i = 0; i < ids.length; i += READ_BATCH) {
            const pipeline = admin.pipeline();
            for (const id of ids.slice(i, i + READ_BATCH)) pipeline.hmget(`${prefix}:${QUEUE}:${id}`, 'timestamp', 'processedOn', 'finishedOn', 'ats');
            for (const [err, fields] of (await pipeline.exec())!) {
              if (err) throw err;
              const [timestamp, processedOn, finishedOn, ats] = (fields as (string | null)[]).map(Number);
              times.push({ enqueuedAt: timestamp!, startedAt: processedOn!, finishedAt: finishedOn!, deliveries: ats! });
            }
          }
          return times;
        },
        close: () => queue.close(),
      };
      return space;
    },
  };
}
