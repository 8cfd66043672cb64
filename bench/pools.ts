/**
 * Benchmark of the execution pools (`conveyor worker --pool inline|threads|processes`), with
 * BullMQ's sandboxed processor (`useWorkerThreads: true`) on the same Redis in the same run:
 *
 * - cpu.*     16 jobs of 250 ms of synchronous CPU at concurrency 2: wall time from the worker's
 *             banner (its children loaded) to the last job settled. On 2 cores a pool should
 *             take about half of inline, which runs one handler at a time.
 * - noop.*    no-op jobs per second at concurrency 4, per pool, on SQLite and on Redis.
 *
 * One worker process per measurement, jobs enqueued before it starts; runs alternate between
 * the sides, and the median of `--runs` is reported. Writes bench/RESULTS-pools.md.
 *
 *   npm run build && npm run bench:pools
 *   node dist/bench/pools.js [--redis redis://127.0.0.1:6379/0] [--noop-jobs 20000] [--runs 3]
 *                            [--only <regexp>] [--out <file> | --no-results]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Conveyor } from '../src/index.js';
import { bullmqVersion } from './bullmq-side.js';
import { machine } from './report.js';

const { values: opts } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
    'noop-jobs': { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/RESULTS-pools.md', import.meta.url)) },
    'no-results': { type: 'boolean', default: false },
  },
});
const NOOP_JOBS = Number(opts['noop-jobs']);
const RUNS = Number(opts.runs);
const CPU_JOBS = 16;
const CPU_MS = 250;
const only = opts.only === undefined ? undefined : new RegExp(opts.only);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const APP = fileURLToPath(new URL('./pool-app.js', import.meta.url));
const BULLMQ_WORKER = fileURLToPath(new URL('./bullmq-sandbox-worker.js', import.meta.url));
const POOLS = ['inline', 'threads', 'processes'] as const;

/** One measured run: jobs done and the seconds they took. */
interface Run {
  jobs: number;
  seconds: number;
}

/** Start a process and resolve once a line of its stdout matches `ready`. */
async function startProcess(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (ready.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${out}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Poll `done()` until it reaches `n`. */
async function until(n: number, done: () => Promise<number>): Promise<void> {
  while ((await done()) < n) await sleep(20);
}

/** Conveyor: enqueue, start a worker on `pool`, time banner -> all settled. */
async function conveyorRun(storeUrl: string, pool: string, concurrency: number, task: string, n: number, arg: number): Promise<Run> {
  const app = new Conveyor({ store: storeUrl });
  for (let i = 0; i < n; i += 1000) await Promise.all(Array.from({ length: Math.min(1000, n - i) }, (_, j) => app.send(task, [task === 'bench.cpu' ? arg : i + j])));
  const settled = async () => (await app.store.queueStats()).reduce((sum, q) => sum + q.counts.SUCCESS + q.counts.FAILURE, 0);
  const worker = await startProcess([CLI, 'worker', '--app', APP, '--store', storeUrl, '--pool', pool, '--concurrency', String(concurrency), '--loglevel', 'warn', '--log-format', 'json'], /\[tasks\]/);
  const t0 = performance.now();
  await until(n, settled);
  const seconds = (performance.now() - t0) / 1000;
  await stop(worker);
  await app.close();
  return { jobs: n, seconds };
}

/** BullMQ with its sandboxed processor in worker threads. */
async function bullmqRun(name: string, concurrency: number, n: number, arg: number): Promise<Run> {
  const prefix = `cvpools-${randomBytes(3).toString('hex')}`;
  const queue = new Queue('default', { connection: { url: opts.redis, maxRetriesPerRequest: null }, prefix });
  for (let i = 0; i < n; i += 1000) await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ name, data: [name === 'bench.cpu' ? arg : i + j] })));
  const worker = await startProcess([BULLMQ_WORKER, opts.redis, prefix, 'default', String(concurrency)], /ready/);
  const t0 = performance.now();
  await until(n, () => queue.getCompletedCount());
  const seconds = (performance.now() - t0) / 1000;
  await stop(worker);
  await queue.obliterate({ force: true });
  await queue.close();
  return { jobs: n, seconds };
}

interface Scenario {
  name: string;
  what: string;
  run(): Promise<Run>;
}

const dir = mkdtempSync(join(tmpdir(), 'conveyor-pools-'));
let files = 0;
const sqliteUrl = () => `sqlite:${join(dir, `b${++files}.db`)}`;
const redisUrl = () => `${opts.redis}?prefix=cvpools-${randomBytes(3).toString('hex')}`;

const scenarios: Scenario[] = [];
for (const [store, url] of [['sqlite', sqliteUrl], ['redis', redisUrl]] as const) {
  for (const pool of POOLS) scenarios.push({ name: `cpu.${store}.${pool}`, what: `${CPU_JOBS} x ${CPU_MS} ms sync CPU, concurrency 2`, run: () => conveyorRun(url(), pool, 2, 'bench.cpu', CPU_JOBS, CPU_MS) });
}
scenarios.push({ name: 'cpu.redis.bullmq-sandboxed', what: `${CPU_JOBS} x ${CPU_MS} ms sync CPU, concurrency 2`, run: () => bullmqRun('bench.cpu', 2, CPU_JOBS, CPU_MS) });
for (const [store, url] of [['sqlite', sqliteUrl], ['redis', redisUrl]] as const) {
  for (const pool of POOLS) scenarios.push({ name: `noop.${store}.${pool}`, what: `${NOOP_JOBS} no-op jobs, concurrency 4`, run: () => conveyorRun(url(), pool, 4, 'bench.noop', NOOP_JOBS, 0) });
}
scenarios.push({ name: 'noop.redis.bullmq-sandboxed', what: `${NOOP_JOBS} no-op jobs, concurrency 4`, run: () => bullmqRun('bench.noop', 4, NOOP_JOBS, 0) });

const chosen = scenarios.filter((s) => !only || only.test(s.name));
const loadAtStart = loadavg()[0]!;
const runs = new Map<string, Run[]>(chosen.map((s) => [s.name, []]));
for (let round = 0; round < RUNS; round++) {
  // Alternate the order, so no scenario always runs on a warmer (or busier) machine.
  for (const s of round % 2 ? [...chosen].reverse() : chosen) {
    const r = await s.run();
    runs.get(s.name)!.push(r);
    process.stderr.write(`${s.name} run ${round + 1}: ${r.seconds.toFixed(2)} s\n`);
  }
}
const admin = new Redis(opts.redis);
const redisVersion = ((await admin.info('server')).match(/redis_version:(\S+)/) ?? [])[1] ?? '?';
await admin.quit();
rmSync(dir, { recursive: true, force: true });

const median = (xs: Run[]): Run => [...xs].sort((a, b) => a.seconds - b.seconds)[Math.floor(xs.length / 2)]!;
const med = new Map([...runs].map(([name, xs]) => [name, median(xs)]));
const rate = (name: string): number | undefined => {
  const r = med.get(name);
  return r && r.jobs / r.seconds;
};
const seconds = (name: string): number | undefined => med.get(name)?.seconds;

const rows = chosen.map((s) => {
  const r = med.get(s.name)!;
  const [kind, store] = s.name.split('.');
  const base = kind === 'cpu' ? seconds(`cpu.${store}.inline`) : rate(`noop.${store}.inline`);
  const value = kind === 'cpu' ? r.seconds : r.jobs / r.seconds;
  const ratio = base === undefined || s.name.endsWith('bullmq-sandboxed') ? '' : (value / base).toFixed(2);
  return `| ${s.name} | ${s.what} | ${kind === 'cpu' ? `${r.seconds.toFixed(2)} s` : `${Math.round(value).toLocaleString('en-US')} jobs/s`} | ${ratio} |`;
});
const checks: string[] = [];
for (const store of ['sqlite', 'redis']) {
  const [inline, threads, processes] = POOLS.map((p) => seconds(`cpu.${store}.${p}`));
  if (inline && threads && processes) checks.push(`- CPU-bound on ${store}: threads take ${(threads / inline).toFixed(2)} and processes ${(processes / inline).toFixed(2)} of inline's wall time (about 0.5 expected on 2 cores).`);
  const [ni, nt] = [rate(`noop.${store}.inline`), rate(`noop.${store}.threads`)];
  if (ni && nt) checks.push(`- No-op on ${store}: threads run at ${(nt / ni).toFixed(2)} of inline (target: at least 0.5) — ${nt / ni >= 0.5 ? 'met' : 'NOT met'}.`);
}
const [ct, bt] = [rate('noop.redis.threads'), rate('noop.redis.bullmq-sandboxed')];
if (ct && bt) checks.push(`- No-op on Redis: Conveyor threads run at ${(ct / bt).toFixed(2)}x BullMQ's sandboxed processor (target: at least 2x) — ${ct / bt >= 2 ? 'met' : 'NOT met'}.`);
const [cc, bc] = [seconds('cpu.redis.threads'), seconds('cpu.redis.bullmq-sandboxed')];
if (cc && bc) checks.push(`- CPU-bound on Redis: Conveyor threads take ${(cc / bc).toFixed(2)} of BullMQ sandboxed's wall time.`);

const m = machine(tmpdir());
const report = [
  '# Execution pools',
  '',
  `Command: \`npm run build && node dist/bench/pools.js --runs ${RUNS} --noop-jobs ${NOOP_JOBS}\` (median of ${RUNS} runs, alternating order).`,
  `Machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Redis ${redisVersion}, BullMQ ${bullmqVersion()}, load ${loadAtStart.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}.`,
  `Date: ${new Date().toISOString().slice(0, 10)}. One worker process per run, jobs enqueued before it starts, timed from its banner (children loaded) to the last job settled.`,
  '',
  '| scenario | what | result | vs inline |',
  '| --- | --- | --- | --- |',
  ...rows,
  '',
  ...checks,
  '',
].join('\n');
process.stdout.write(report);
if (!opts['no-results']) writeFileSync(opts.out, report);
