// Screenshot of the dashboard for the docs: a server on a temporary SQLite store filled with
// sample data (four queues, jobs in every state, three workers, non-zero counters, 15 minutes of
// throughput), opened in Chromium at 1280x800 and saved as docs/dashboard.png.
//
//   node --import tsx scripts/screenshot.ts [out.png] [--dark] [--full] [--mobile] [--hash '#/tasks' | '#/tasks/{running}' | '#/tasks/{failed}']
//
// The app runs on a clock the script moves through the last 15 minutes, so the throughput
// sampler sees jobs finish over time; then the clock is real again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Conveyor, PermanentError, Worker } from '../src/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { apiServices, buildServer } from '../src/http/server.js';
import { launchChromium } from '../test/http/browser.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const out = path.resolve(args.find((a) => a.endsWith('.png')) ?? path.join(root, 'docs/dashboard.png'));
const dark = args.includes('--dark');
const fullPage = args.includes('--full');
const viewport = args.includes('--mobile') ? { width: 390, height: 844 } : { width: 1280, height: 800 };
const hash = args.includes('--hash') ? args[args.indexOf('--hash') + 1]! : '#/';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-screenshot-'));
const BUCKET_MS = 30_000;
/** The first of the chart's 30 buckets (the last one is the current one). */
const firstBucket = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS - 29 * BUCKET_MS;
let fake: number | null = firstBucket - BUCKET_MS;
const now = () => fake ?? Date.now();
const store = new SqliteStore(path.join(dir, 'conveyor.db'), { clock: now });
const app = new Conveyor({ store, clock: now, logger: pino({ level: 'silent' }) });

class NetworkError extends Error {}
app.task({ name: 'email.send_welcome', queue: 'emails' }, async (_ctx, to: string) => ({ status: 'sent', to }));
app.task({ name: 'email.send_receipt', queue: 'emails' }, async (_ctx, order: string) => {
  if (order.endsWith('7')) throw new PermanentError(`order ${order} has no billing address`);
  return { order };
});
app.task({ name: 'report.build', queue: 'reports' }, async (_ctx, month: string) => ({ month, rows: 1200 }));
app.task({ name: 'webhook.deliver', queue: 'webhooks', retry: { on: [NetworkError], max: 5, backoff: { base: '10m' } } }, async (_ctx, url: string) => {
  if (url.includes('flaky')) throw new NetworkError(`connect ECONNREFUSED ${new URL(url).host}`);
  return { status: 200 };
});
app.task({ name: 'image.resize', queue: 'default' }, async (_ctx, key: string, width: number) => ({ key, width }));

const worker = new Worker(app, { logger: app.logger, workerId: 'web-1:4182', concurrency: 100, queues: ['emails', 'reports', 'webhooks', 'default'] });
const server = await buildServer({ app, throughput: { sampleEveryMs: 3_600_000 } });
await server.listen({ port: 0, host: '127.0.0.1' });
const services = apiServices(server)!;
const address = server.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

// 15 minutes of traffic, one 30 s bucket at a time, each sampled by the server's throughput sampler.
await services.throughput.runOnce(); // the baseline
for (let i = 0; i < 30; i++) {
  fake = firstBucket + i * BUCKET_MS + 1_000;
  const load = Math.round(14 + 10 * Math.sin(i / 4) + (i % 7) * 1.5);
  for (let k = 0; k < load; k++) await app.send('email.send_welcome', [`user${i}-${k}@example.com`]);
  for (let k = 0; k < Math.ceil(load / 3); k++) await app.send('email.send_receipt', [`o-${i}${k}`]);
  if (i % 3 === 0) await app.send('image.resize', [`photos/${i}.jpg`, 640]);
  if (i % 5 === 0) await app.send('report.build', [`2024-${String((i % 12) + 1).padStart(2, '0')}`]);
  await worker.runOnce();
  await services.throughput.runOnce();
}
fake = Date.now() - 60_000; // what follows happened in the last minute

// Jobs in every state. RETRY: a webhook whose endpoint refuses (its next try is 10 min away).
await app.send('webhook.deliver', ['https://flaky.example.net/hooks/orders']);
await app.send('webhook.deliver', ['https://flaky.example.net/hooks/refunds']);
await app.send('webhook.deliver', ['https://api.example.com/hooks/ok']);
await worker.runOnce();

// STARTED, with progress and an earlier delivery lost to a dead worker (a "lost" history entry).
const running = await Promise.all(['2024-05', '2024-06'].map((m) => app.send('report.build', [m])));
const lost = await store.jobsReserve({ queues: ['reports'], workerId: 'web-2:3310', limit: 2, leaseMs: 1000 });
fake! += 5_000;
await store.jobsRecoverExpired();
fake! += 2_000;
const held = await store.jobsReserve({ queues: ['reports'], workerId: 'batch-1:911', limit: 2, leaseMs: 10 * 60_000 });
for (const [i, job] of held.entries()) {
  await store.jobProgress({ id: job.id, token: job.token, fraction: [0.62, 0.18][i]!, infoJson: JSON.stringify({ rows: [744, 216][i], of: 1200 }) });
  await store.jobStepPut({ id: job.id, token: job.token, name: 'fetch-rows', resultJson: '{"rows":1200}' });
  await store.jobStepGet({ id: job.id, token: job.token, name: 'fetch-rows' }); // a replay
}
await store.jobProgress({ id: lost[0]!.id, token: lost[0]!.token, fraction: 0.1, infoJson: null }); // refused: stale

// Duplicates suppressed, a double release; PENDING (some scheduled) and REVOKED jobs.
for (let k = 0; k < 3; k++) await app.send('email.send_welcome', ['ann@example.com'], { idempotencyKey: 'welcome:ann' });
await store.poolAdd({ pool: 'executors', items: ['exec-1', 'exec-2'] });
const lease = await store.poolAcquire({ pool: 'executors', holder: 'demo', ttlMs: 60_000 });
await store.poolRelease({ pool: 'executors', item: lease!.item, token: lease!.token });
await store.poolRelease({ pool: 'executors', item: lease!.item, token: lease!.token });
fake = null;
for (let k = 0; k < 9; k++) await app.send('email.send_welcome', [`late${k}@example.com`]);
for (let k = 0; k < 4; k++) await app.send('image.resize', [`avatars/${k}.png`, 128], { countdown: '20m' });
await app.send('webhook.deliver', ['https://api.example.com/hooks/signup']);
const revoked = await app.send('report.build', ['2023-12']);
await app.revoke(revoked.id, { reason: 'superseded by the yearly report' });

// Workers: two live, one whose heartbeat is late.
const beat = async (id: string, queues: string[], concurrency: number, active: { id: string; task: string; startedAt: number }[], counts: Record<string, number>, ageMs = 0) => {
  fake = Date.now() - ageMs;
  await store.workersHeartbeat({ worker: { id, hostname: id.split(':')[0]!, pid: Number(id.split(':')[1]), queues, concurrency, startedAt: Date.now() - 3 * 3_600_000, active, counts }, ttlMs: 10 * 60_000 });
  fake = null;
};
await beat('web-1:4182', ['emails', 'default'], 20, [], { succeeded: 611, failed: 9, retried: 2 });
await beat('batch-1:911', ['reports'], 4, held.map((j) => ({ id: j.id, task: j.task, startedAt: Date.now() - 95_000 })), { succeeded: 6, failed: 0 });
await beat('hooks-1:2207', ['webhooks'], 8, [], { succeeded: 41, failed: 0, retried: 2 }, 14_000);
const failed = (await store.jobsList({ states: ['FAILURE'], limit: 1, newestFirst: true }))[0]!;
const target = hash.replace('{running}', held[0]!.id).replace('{failed}', failed.id);
void running;

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport, colorScheme: dark ? 'dark' : 'light', deviceScaleFactor: 1 });
  await page.goto(`${base}/${target}`);
  await page.waitForSelector('[data-testid="connection-status"][data-state="live"]', { timeout: 15_000 });
  await page.waitForSelector(hash === '#/' ? '[data-testid="worker-row"]' : '[data-testid="task-row"], [data-testid="task-detail"]', { timeout: 15_000 });
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: out, fullPage });
  console.log(`saved ${path.relative(process.cwd(), out)}`);
} finally {
  await browser.close();
  await server.close();
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
