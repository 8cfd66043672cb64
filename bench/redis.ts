/**
 * Benchmark of the Redis store against BullMQ, on the same Redis, in the same run, with the
 * same jobs and concurrency: processing at concurrency 1, 10 and 100 (one worker process each),
 * enqueue (sequential, concurrent, bulk), enqueue→start latency at a steady rate, Redis commands
 * and CPU per job, Node CPU per job, and Redis memory per queued job. Prints a table of
 * Conveyor / BullMQ ratios with a verdict per target and writes bench/RESULTS-redis.md.
 *
 *   npm run build && npm run bench:redis
 *   node dist/bench/redis.js [--redis redis://127.0.0.1:6379/0] [--jobs 50000] [--enqueue-jobs 20000]
 *                            [--memory-jobs 100000] [--rate 500] [--seconds 10] [--runs 3]
 *                            [--sides conveyor,bullmq] [--only <regexp>] [--timeout 90]
 *                            [--cpu-prof-dir <dir>] [--out <file> | --no-results]
 *
 * `--runs` rounds of the short scenarios (process.c10, process.c100, enqueue.*), one of the long
 * or steady ones (process.c1, latency, memory.queued); the median run is reported.
 *
 * The Redis may be shared: every key this run writes has a prefix unique to the run and is
 * deleted after each measurement; nothing is flushed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseStoreUrl } from '../src/index.js';
import { bullmqSide } from './bullmq-side.js';
import { conveyorStoreUrl, conveyorSide } from './redis-conveyor.js';
import { measureEnqueue, measureLatency, measureMemory, measureProcessing, type MeasureContext } from './redis-measure.js';
import { formatRedisResults, formatTable, formatVerdicts, NOTES_MARKER } from './redis-report.js';
import { ENQUEUE_ROWS, Figures } from './redis-rows.js';
import { countKeys, deleteKeys, serverFacts } from './redis-server.js';
import type { Side, SideName } from './redis-side.js';
import { machine } from './report.js';

const { values: opts } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
    jobs: { type: 'string', default: '50000' },
    'enqueue-jobs': { type: 'string', default: '20000' },
    'memory-jobs': { type: 'string', default: '100000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    sides: { type: 'string', default: 'conveyor,bullmq' },
    only: { type: 'string' },
    timeout: { type: 'string', default: '90' },
    'cpu-prof-dir': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/RESULTS-redis.md', import.meta.url)) },
    'no-results': { type: 'boolean', default: false },
  },
});

function int(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}
const N = int('jobs', opts.jobs, 1_000);
const N_ENQUEUE = int('enqueue-jobs', opts['enqueue-jobs'], 1_000);
const N_MEMORY = int('memory-jobs', opts['memory-jobs'], 1_000);
const RATE = int('rate', opts.rate, 1);
const SECONDS = int('seconds', opts.seconds, 1);
const RUNS = int('runs', opts.runs, 1);
const CONCURRENCIES = [1, 10, 100] as const;
const LATENCY_CONCURRENCY = 10;
const only = opts.only === undefined ? undefined : new RegExp(opts.only);
const sideNames = opts.sides.split(',').map((s) => s.trim()) as SideName[];
if (sideNames.length === 0 || sideNames.some((s) => s !== 'conveyor' && s !== 'bullmq')) throw new Error(`--sides takes conveyor and/or bullmq, got ${opts.sides}`);

const runToken = `cvbench-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
if (sideNames.includes('conveyor')) {
  try {
    parseStoreUrl(conveyorStoreUrl(opts.redis, runToken));
  } catch (err) {
    process.stderr.write(`conveyor bench: this build has no Redis store (${(err as Error).message}); run with --sides bullmq to measure BullMQ alone\n`);
    process.exit(1);
  }
}

const admin = new Redis(opts.redis, { maxRetriesPerRequest: null });
const ctx: MeasureContext = {
  admin,
  runToken,
  nodeArgs: opts['cpu-prof-dir'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts['cpu-prof-dir']}`],
  timeoutMs: int('timeout', opts.timeout, 1) * 1000,
};
const sides: Side[] = sideNames.map((name) => (name === 'conveyor' ? conveyorSide(opts.redis) : bullmqSide(opts.redis, admin)));

const figures = new Figures();

interface Scenario {
  name: string;
  /** Measured in the first round only: long (concurrency 1: ~15 s a side), steady (memory), or 10 s of sampling (latency). */
  once?: boolean;
  /** Measure one side, keep the figures, answer a progress line. */
  run(side: Side): Promise<string>;
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const allScenarios: Scenario[] = [
  ...CONCURRENCIES.map((c): Scenario => ({
    name: `process.c${c}`,
    once: c === 1,
    async run(side) {
      const f = await measureProcessing(ctx, side, N, c);
      figures.addProcessing(side.name, c, f);
      return `${fmt(f.jobsPerSec)} jobs/s, ${f.commandsPerJob.toFixed(2)} calls/job, node ${f.nodeCpuUsPerJob.toFixed(1)} µs/job${f.timedOut ? ', TIMED OUT' : ''}`;
    },
  })),
  ...ENQUEUE_ROWS.map(([mode, name]): Scenario => ({
    name,
    async run(side) {
      const jobsPerSec = await measureEnqueue(ctx, side, mode, N_ENQUEUE);
      figures.addEnqueue(side.name, mode, jobsPerSec);
      return `${fmt(jobsPerSec)} jobs/s`;
    },
  })),
  {
    name: 'latency',
    once: true,
    async run(side) {
      const f = await measureLatency(ctx, side, RATE, SECONDS, LATENCY_CONCURRENCY);
      figures.addLatency(side.name, f);
      return `p50 ${f.p50} ms, p95 ${f.p95} ms, p99 ${f.p99} ms, max ${f.max} ms`;
    },
  },
  {
    name: 'memory.queued',
    once: true,
    async run(side) {
      const bytes = await measureMemory(ctx, side, N_MEMORY);
      figures.addMemory(side.name, bytes);
      return `${fmt(bytes)} bytes/job`;
    },
  },
];
const scenarios = allScenarios.filter((s) => !only || only.test(s.name));

const started = performance.now();
const loadAtStart = loadavg()[0]!;
try {
  const facts = await serverFacts(admin);
  process.stderr.write(`conveyor redis bench: run ${runToken}, ${sides.map((s) => s.label).join(' vs ')}, Redis ${facts.version}, ${RUNS} round(s)\n`);
  for (const side of sides) {
    // Load code paths and Lua scripts before any clock starts.
    await measureEnqueue(ctx, side, 'concurrent', 2_000);
    await measureEnqueue(ctx, side, 'bulk', 2_000);
  }
  for (let round = 0; round < RUNS; round++) {
    for (const [k, s] of scenarios.entries()) {
      if (round > 0 && s.once) continue;
      // Alternate which side goes first, so neither always runs on a warmer (or busier) machine.
      const ordered = (round + k) % 2 === 0 ? sides : [...sides].reverse();
      for (const side of ordered) process.stderr.write(`  round ${round + 1} ${s.name} ${side.name}: ${await s.run(side)}\n`);
    }
  }
  const { rows, mixes } = figures.rows({ jobs: N, enqueueJobs: N_ENQUEUE, memoryJobs: N_MEMORY, rate: RATE, seconds: SECONDS, latencyConcurrency: LATENCY_CONCURRENCY });
  await deleteKeys(admin, runToken);
  const leftKeys = await countKeys(admin, runToken);
  process.stdout.write(`\n${formatTable(rows)}\n\n${formatVerdicts(rows)}\n`);
  if (!opts['no-results']) {
    const args = process.argv.slice(2);
    const m = machine(tmpdir());
    const require = createRequire(import.meta.url);
    const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
    const previous = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '';
    const notesAt = previous.indexOf(NOTES_MARKER);
    writeFileSync(opts.out, formatRedisResults({
      date: new Date(),
      command: `npm run build && npm run bench:redis${args.length ? ` -- ${args.join(' ')}` : ''}`,
      params: `Processing ${N.toLocaleString('en-US')} jobs per run, enqueue ${N_ENQUEUE.toLocaleString('en-US')}, latency ${RATE}/s for ${SECONDS} s, memory ${N_MEMORY.toLocaleString('en-US')} jobs; ${RUNS} round(s) of process.c10, process.c100 and enqueue.* (median run shown), one of process.c1, latency and memory.queued`,
      machine: m,
      redis: { url: opts.redis, ...facts },
      libraries: `Sides: ${sides.map((s) => s.label).join(', ')}; ioredis ${version('ioredis')} on both`,
      load: [loadAtStart, loadavg()[0]!],
      totalSeconds: (performance.now() - started) / 1000,
      rows,
      mixes,
      leftKeys,
    }, notesAt >= 0 ? previous.slice(notesAt) : undefined));
    process.stderr.write(`wrote ${opts.out}\n`);
  }
  process.stderr.write(`whole run ${((performance.now() - started) / 1000).toFixed(0)} s; keys of this run left in Redis: ${leftKeys}\n`);
} finally {
  await deleteKeys(admin, runToken).catch(() => undefined);
  admin.disconnect();
}
