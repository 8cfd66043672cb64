/**
 * One worker process of the bench: `node dist/bench/worker.js <dbfile|storeUrl> <concurrency> [--report]`.
 *
 * Runs the no-op task until SIGTERM or SIGINT, then shuts down gracefully and exits 0 (so a
 * `--cpu-prof` profile is written). Logs at `warn`, so per-job logging costs nothing.
 * The first argument is an SQLite file (the SQLite bench) or a store URL such as
 * `redis://127.0.0.1:6379/0?prefix=…` (the Redis bench). `--report` writes progress and CPU
 * as JSON lines on stdout for the Redis driver (see `redis-progress.ts`).
 */
import { pino } from 'pino';
import { Worker } from '../src/index.js';
import { benchApp } from './app.js';
import { ProgressReporter } from './redis-progress.js';

const [where, concurrencyArg, flag] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!where || !Number.isInteger(concurrency) || concurrency < 1 || (flag !== undefined && flag !== '--report')) {
  process.stderr.write('usage: node dist/bench/worker.js <dbfile|storeUrl> <concurrency> [--report]\n');
  process.exit(2);
}

// Created first, so its CPU baseline leaves module loading out and takes connecting in.
const report = flag === '--report' ? new ProgressReporter(() => worker.counts.succeeded) : undefined;
const { app } = benchApp(where);
const worker = new Worker(app, { concurrency, logger: pino({ level: 'warn' }) });
worker.start();

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  report?.finish();
  try {
    await worker.stop({ grace: '5s' });
    await app.close();
    process.exit(0);
  } catch (err) {
    process.stderr.write(`bench worker: shutdown failed: ${String(err)}\n`);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
