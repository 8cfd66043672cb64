/**
 * One BullMQ worker process with a sandboxed processor in worker threads, for the pools bench:
 * `node dist/bench/bullmq-sandbox-worker.js <redisUrl> <prefix> <queue> <concurrency>`.
 * Prints `ready` once the worker is running; stops on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';

const [url, prefix, queue, concurrencyArg] = process.argv.slice(2);
const processor = fileURLToPath(new URL('./bullmq-processor.js', import.meta.url));
const worker = new Worker(queue!, processor, { connection: { url: url!, maxRetriesPerRequest: null }, prefix, concurrency: Number(concurrencyArg), useWorkerThreads: true });
worker.on('error', (err) => process.stderr.write(`bullmq worker: ${String(err)}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
