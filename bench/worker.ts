/**
 * One worker process of the bench: `node dist/bench/worker.js <dbfile> <concurrency>`.
 *
 * Runs the no-op task until SIGTERM or SIGINT, then shuts down gracefully and exits 0 (so a
 * `--cpu-prof` profile is written). Logs at `warn`, so per-job logging costs nothing.
 */
import { pino } from 'pino';
import { Worker } from '../src/index.js';
import { benchApp } from './app.js';

const [dbFile, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!dbFile || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: node dist/bench/worker.js <dbfile> <concurrency>\n');
  process.exit(2);
}

const { app } = benchApp(dbFile);
const worker = new Worker(app, { concurrency, logger: pino({ level: 'warn' }) });
worker.start();

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
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
