/**
 * One BullMQ worker process, the counterpart of `worker.ts` in the Redis bench:
 * `node dist/bench/bullmq-worker.js <redisUrl> <prefix> <queue> <concurrency> [--report]`.
 *
 * Runs a no-op processor (returns null, as the Conveyor no-op task does) with BullMQ's defaults
 * (completed jobs kept, 30 s locks, stalled checks on), until SIGTERM or SIGINT, then closes
 * gracefully and exits 0 so a `--cpu-prof` profile is written. `--report` as in `worker.ts`.
 */
import { Worker } from 'bullmq';
import { ProgressReporter } from './redis-progress.js';

const [url, prefix, queue, concurrencyArg, flag] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!url || !prefix || !queue || !Number.isInteger(concurrency) || concurrency < 1 || (flag !== undefined && flag !== '--report')) {
  process.stderr.write('usage: node dist/bench/bullmq-worker.js <redisUrl> <prefix> <queue> <concurrency> [--report]\n');
  process.exit(2);
}

let done = 0;
// Created first, so its CPU baseline leaves module loading out and takes connecting in.
const report = flag === '--report' ? new ProgressReporter(() => done) : undefined;
const worker = new Worker(queue, async () => null, {
  connection: { url, maxRetriesPerRequest: null },
  prefix,
  concurrency,
});
worker.on('completed', () => void done++);
worker.on('error', (err) => process.stderr.write(`bullmq worker: ${String(err)}\n`));

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  report?.finish();
  try {
    await worker.close();
    process.exit(0);
  } catch (err) {
    process.stderr.write(`bullmq worker: shutdown failed: ${String(err)}\n`);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
