/**
 * Benchmark of the PostgreSQL store against three anchors on the same PostgreSQL, in the same
 * run: BullMQ's PostgreSQL backend, pg-boss and graphile-worker. Scenarios (issue text):
 * processing no-op jobs at concurrency 10 and 100 (one worker process), bulk enqueue,
 * enqueue→start p50/p99 at a steady rate with an idle worker, and single-row enqueue inside a
 * caller's transaction. Prints a table of Conveyor / best-anchor ratios with a verdict per target
 * and rewrites its section of bench/RESULTS-postgres.md (the rest of the file is kept).
 *
 *   npm run build && npm run bench:postgres
 *   node dist/bench/postgres.js [--url postgres://postgres@127.0.0.1:5432/test] [--jobs 20000]
 *                               [--enqueue-jobs 20000] [--tx-jobs 2000] [--rate 500] [--seconds 10]
 *                               [--runs 3] [--sides conveyor,bullmq,pgboss,graphile] [--only <regexp>]
 *                               [--timeout 30] [--out <file> | --no-results]
 *   node dist/bench/postgres.js --flat [--flat-jobs 1000000] [--wave 100000] [--flat-concurrency 100]
 *                               [--result-ttl 24h] [--url <url>] [--out <file> | --no-results]
 *
 * `--runs` rounds of process.c10, process.c100 and enqueue.* (median reported), one of latency.
 * `--flat` runs only the flat-over-many-jobs check (postgres-flat.ts) on Conveyor: on a private
 * PostgreSQL 15 with stock settings (src/chaos/postgres-server.ts: a temp folder, a free
 * loopback port, stopped at the end) unless `--url` names a server; `--result-ttl` is the app's
 * result TTL for that run (its section of the results is keyed by it).
 *
 * The database may be shared: every schema this run creates starts with a token unique to the
 * run and is dropped after its measurement; the run checks that none is left.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../src/chaos/postgres-server.js';
import { toMs } from '../src/duration.js';
import { RESULT_TTL_ENV } from './app.js';
import { ANCHOR_SETTINGS } from './postgres-anchors.js';
import { bullmqPgSide, graphileSide, pgbossSide } from './postgres-anchor-sides.js';
import { conveyorPgSide } from './postgres-conveyor.js';
import { formatFlatSection, formatFlatTable, runFlat } from './postgres-flat.js';
import { dropSchema, measureBulk, measureLatency, measureProcessing, measureTx, type LatencyFigures, type MeasureContext, type ProcessingFigures } from './postgres-measure.js';
import { flatMarkers, formatPgResults, formatTable, formatVerdicts, prepareFlatSection, replaceSection, SECTION_END, SECTION_START, type PgRow } from './postgres-report.js';
import { PG_SIDES, type PgSide, type PgSideName } from './postgres-side.js';
import { machine } from './report.js';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    jobs: { type: 'string', default: '20000' },
    'enqueue-jobs': { type: 'string', default: '20000' },
    'tx-jobs': { type: 'string', default: '2000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    sides: { type: 'string', default: PG_SIDES.join(',') },
    only: { type: 'string' },
    timeout: { type: 'string', default: '30' },
    flat: { type: 'boolean', default: false },
    'flat-jobs': { type: 'string', default: '1000000' },
    wave: { type: 'string', default: '100000' },
    'flat-concurrency': { type: 'string', default: '100' },
    'result-ttl': { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/RESULTS-postgres.md', import.meta.url)) },
    'no-results': { type: 'boolean', default: false },
  },
});

function int(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${value}`);
  return n;
}
const N = int('jobs', opts.jobs, 100);
const N_ENQUEUE = int('enqueue-jobs', opts['enqueue-jobs'], 100);
const N_TX = int('tx-jobs', opts['tx-jobs'], 10);
const RATE = int('rate', opts.rate, 1);
const SECONDS = int('seconds', opts.seconds, 1);
const RUNS = int('runs', opts.runs, 1);
const TIMEOUT_MS = int('timeout', opts.timeout, 1) * 1000;
const CONCURRENCIES = [10, 100] as const;
const LATENCY_CONCURRENCY = 10;
const only = opts.only === undefined ? undefined : new RegExp(opts.only);
const sideNames = opts.sides.split(',').map((s) => s.trim()) as PgSideName[];
if (opts['result-ttl'] !== undefined && !opts.flat) throw new Error('--result-ttl is for --flat runs only');
if (sideNames.length === 0 || sideNames.some((s) => !PG_SIDES.includes(s))) throw new Error(`--sides takes some of ${PG_SIDES.join(',')}, got ${opts.sides}`);

/** The server of a full run, and of `--flat --url`. */
const SHARED_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** The app's result TTL when none is given (`ConveyorOptions.resultTtl`'s @default). */
const DEFAULT_RESULT_TTL = '24h';
/** When the worker processes' maintenance loop runs `jobsDeleteExpired` (worker.ts: the Worker's defaults). */
const SWEEP_EVERY = "every 5-6 s: the Worker's default recovery interval, min(lease / 2, 5 s) with the default 30 s lease, plus up to 20 % jitter";

// `--flat` without `--url`: a private server with stock settings, so the result is not the shared one's (autovacuum off).
const privateServer = opts.flat && opts.url === undefined ? await startPostgres() : undefined;
const pgUrl = privateServer?.url ?? opts.url ?? SHARED_URL;
const runToken = `cvb_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
const admin = new pg.Pool({ connectionString: pgUrl, max: 4, application_name: 'conveyor-bench' });
admin.on('error', () => {}); // an idle connection the server dropped: the pool replaces it
const ctx: MeasureContext = { admin, runToken, timeoutMs: TIMEOUT_MS };
const makeSide: Record<PgSideName, () => PgSide> = {
  conveyor: () => conveyorPgSide(pgUrl),
  bullmq: () => bullmqPgSide(pgUrl, admin),
  pgboss: () => pgbossSide(pgUrl, admin),
  graphile: () => graphileSide(pgUrl, admin),
};
const sides = PG_SIDES.filter((s) => sideNames.includes(s)).map((s) => makeSide[s]());
const started = performance.now();
const loadAtStart = loadavg()[0]!;
const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function leftSchemas(): Promise<string[]> {
  const { rows } = await admin.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${runToken}%`]);
  return rows.map((r) => r.nspname);
}

async function serverLine(): Promise<string> {
  const { rows } = await admin.query<{ v: string; sc: string; av: string; conns: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS sc, current_setting('autovacuum') AS av, (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS conns`,
  );
  const r = rows[0]!;
  const where = pgUrl.replace(/\/\/[^@/]*@/, '//');
  return `PostgreSQL ${r.v} at \`${where}\` (synchronous_commit=${r.sc}, autovacuum=${r.av}; shared: ${r.conns} client connection(s) at start)`;
}

/** Every run of every scenario, per side. */
type Runs<T> = Partial<Record<PgSideName, T[]>>;
const push = <T>(runs: Runs<T>, side: PgSideName, value: T) => (runs[side] ??= []).push(value);
/** The median run by `key` (the lower middle one of an even count). */
const median = <T>(runs: T[] | undefined, key: (t: T) => number) => (runs?.length ? [...runs].sort((a, b) => key(a) - key(b))[(runs.length - 1) >> 1] : undefined);
function spread<T>(runs: Runs<T>, key: (t: T) => number): string {
  const count = Math.max(...PG_SIDES.map((s) => runs[s]?.length ?? 0));
  if (count <= 1) return '';
  const part = (s: PgSideName) => {
    const v = (runs[s] ?? []).map(key).sort((a, b) => a - b);
    return v.length ? `${s} ${fmt(v[0]!)}-${fmt(v.at(-1)!)}` : '';
  };
  return `; median of ${count} (${PG_SIDES.map(part).filter(Boolean).join(', ')})`;
}
/** Each side's median run by `key`. */
const medians = <T>(runs: Runs<T>, key: (t: T) => number) => Object.fromEntries(PG_SIDES.flatMap((s) => (runs[s]?.length ? [[s, median(runs[s], key)!]] : []))) as Partial<Record<PgSideName, T>>;
const valuesOf = <T>(m: Partial<Record<PgSideName, T>>, f: (t: T) => number) => Object.fromEntries(Object.entries(m).map(([s, t]) => [s, f(t as T)])) as Partial<Record<PgSideName, number>>;

const processing = new Map<number, Runs<ProcessingFigures>>(CONCURRENCIES.map((c) => [c, {}]));
const bulk: Runs<number> = {};
const tx: Runs<number | undefined> = {};
const latency: Runs<LatencyFigures> = {};

interface Scenario {
  name: string;
  once?: boolean;
  run(side: PgSide): Promise<string>;
}
const allScenarios: Scenario[] = [
  ...CONCURRENCIES.map((c): Scenario => ({
    name: `process.c${c}`,
    async run(side) {
      const f = await measureProcessing(ctx, side, N, c);
      push(processing.get(c)!, side.name, f);
      return `${fmt(f.jobsPerSec)} jobs/s${f.timedOut ? `, TIMED OUT with ${fmt(f.done)} of ${fmt(N)} done` : ''}`;
    },
  })),
  {
    name: 'enqueue.bulk1000',
    async run(side) {
      const v = await measureBulk(ctx, side, N_ENQUEUE);
      push(bulk, side.name, v);
      return `${fmt(v)} jobs/s`;
    },
  },
  {
    name: 'enqueue.tx',
    async run(side) {
      const v = await measureTx(ctx, side, N_TX);
      push(tx, side.name, v);
      return v === undefined ? 'cannot join a caller transaction' : `${fmt(v)} jobs/s`;
    },
  },
  {
    name: 'latency',
    once: true,
    async run(side) {
      const f = await measureLatency(ctx, side, RATE, SECONDS, LATENCY_CONCURRENCY);
      push(latency, side.name, f);
      return `p50 ${f.p50} ms, p99 ${f.p99} ms, max ${f.max} ms${f.notStarted ? `, ${fmt(f.notStarted)} of ${fmt(f.jobs)} not started by the timeout` : ''}`;
    },
  },
];
const scenarios = allScenarios.filter((s) => !only || only.test(s.name));

function rows(): PgRow[] {
  const out: PgRow[] = [];
  for (const c of CONCURRENCIES) {
    const runs = processing.get(c)!;
    if (!Object.keys(runs).length) continue;
    const m = medians(runs, (f) => f.jobsPerSec);
    const timedOut = PG_SIDES.filter((s) => m[s]?.timedOut).map((s) => `${s} timed out after ${TIMEOUT_MS / 1000} s with ${fmt(m[s]!.done)} done (its rate over that window)`);
    out.push({
      name: `process.c${c}`, unit: 'jobs/s', better: 'higher', target: { ratio: 3 },
      values: valuesOf(m, (f) => f.jobsPerSec),
      detail: `${fmt(N)} jobs, one worker process${timedOut.length ? `; ${timedOut.join('; ')}` : ''}${spread(runs, (f) => f.jobsPerSec)}`,
    });
  }
  if (Object.keys(bulk).length) {
    out.push({ name: 'enqueue.bulk1000', unit: 'jobs/s', better: 'higher', values: medians(bulk, (v) => v), detail: `${fmt(N_ENQUEUE)} jobs in calls of 1,000${spread(bulk, (v) => v)}` });
  }
  if (Object.keys(tx).length) {
    const values: Partial<Record<PgSideName, number>> = {};
    const missing: Partial<Record<PgSideName, string>> = {};
    for (const s of PG_SIDES) {
      if (!tx[s]) continue;
      const v = median(tx[s].map((x) => x ?? Number.NaN), (x) => x)!;
      if (Number.isNaN(v)) missing[s] = '—';
      else values[s] = v;
    }
    const known: Runs<number> = Object.fromEntries(PG_SIDES.flatMap((s) => (tx[s]?.every((x) => x !== undefined) ? [[s, tx[s] as number[]]] : [])));
    out.push({ name: 'enqueue.tx', unit: 'jobs/s', better: 'higher', values, missing, detail: `${fmt(N_TX)} transactions on one client, each BEGIN + one send + COMMIT; — = cannot join a caller's transaction${spread(known, (v) => v)}` });
  }
  if (Object.keys(latency).length) {
    const m = medians(latency, (f) => f.p99);
    const lowerBound = Object.fromEntries(PG_SIDES.filter((s) => (m[s]?.notStarted ?? 0) > 0).map((s) => [s, true]));
    const behind = PG_SIDES.filter((s) => (m[s]?.notStarted ?? 0) > 0).map((s) => `${s}: ${fmt(m[s]!.notStarted)} of ${fmt(m[s]!.jobs)} not started ${TIMEOUT_MS / 1000} s after the last send`);
    const sent = PG_SIDES.filter((s) => m[s]).map((s) => fmt(m[s]!.sentPerSec)).join('/');
    const base = `${fmt(RATE * SECONDS)} jobs at ${RATE}/s (sent ${sent}/s), worker at c${LATENCY_CONCURRENCY}, idle before${behind.length ? `; ${behind.join('; ')}` : ''}`;
    for (const q of ['p50', 'p99'] as const) {
      out.push({
        name: `latency.${q}`, unit: 'ms', better: 'lower', target: q === 'p99' ? 'no-worse' : undefined, lowerBound,
        values: valuesOf(m, (f) => f[q]),
        detail: q === 'p99' ? `${base}; max ${PG_SIDES.filter((s) => m[s]).map((s) => `${s} ${fmt(m[s]!.max)}`).join(', ')} ms` : base,
      });
    }
  }
  return out;
}

function libraries(): string {
  const require = createRequire(import.meta.url);
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  return `Sides: ${sides.map((s) => s.label).join(', ')}; node-postgres ${version('pg')} under all four`;
}

/** The command line as run, without `--out <file>` (where the figures went, not what was measured). */
function commandArgs(): string[] {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  return at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args.filter((a) => !a.startsWith('--out='));
}

function writeSection(start: string, end: string, body: string, after?: string): void {
  const previous = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '# PostgreSQL results\n';
  writeFileSync(opts.out, replaceSection(previous, start, end, body, after));
  log(`wrote ${opts.out}`);
}

async function mainRun(): Promise<void> {
  log(`conveyor postgres bench: run ${runToken}, ${sides.map((s) => s.label).join(' vs ')}, ${RUNS} round(s)`);
  for (const side of sides) await measureBulk(ctx, side, 2_000); // load code paths and prepare statements before any clock starts
  for (let round = 0; round < RUNS; round++) {
    for (const [k, s] of scenarios.entries()) {
      if (round > 0 && s.once) continue;
      // Rotate which side goes first, so none always runs on a warmer (or busier) machine.
      const shift = (round + k) % sides.length;
      for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) log(`  round ${round + 1} ${s.name} ${side.name}: ${await s.run(side)}`);
    }
  }
  const table = rows();
  const left = await leftSchemas();
  process.stdout.write(`\n${formatTable(table)}\n\n${formatVerdicts(table)}\n`);
  if (!opts['no-results']) {
    const args = commandArgs();
    writeSection(SECTION_START, SECTION_END, formatPgResults({
      date: new Date(),
      command: `npm run build && npm run bench:postgres${args.length ? ` -- ${args.join(' ')}` : ''}`,
      params: `Processing ${fmt(N)} jobs per run (timeout ${TIMEOUT_MS / 1000} s), bulk enqueue ${fmt(N_ENQUEUE)}, ${fmt(N_TX)} transactions, latency ${RATE}/s for ${SECONDS} s; ${RUNS} round(s) of process.*, enqueue.* (median shown), one of latency`,
      machine: machine(tmpdir()),
      server: await serverLine(),
      libraries: libraries(),
      settings: [
        'Conveyor: `node dist/bench/worker.js <url>?schema=… c` (the store\'s defaults: pool of 10, LISTEN wake-ups; logger at warn)',
        ...sides.filter((s) => s.name !== 'conveyor').map((s) => `${s.label}: ${ANCHOR_SETTINGS[s.name as Exclude<PgSideName, 'conveyor'>]}`),
      ],
      load: [loadAtStart, loadavg()[0]!],
      totalSeconds: (performance.now() - started) / 1000,
      rows: table,
      leftSchemas: left.length,
    }));
  }
  log(`whole run ${((performance.now() - started) / 1000).toFixed(0)} s; schemas of this run left: ${left.length}`);
}

/** `ms` as a duration label in the largest unit that divides it (`86400000` → `24h`, `30000` → `30s`). */
function durationLabel(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

async function flatRun(): Promise<void> {
  const jobs = int('flat-jobs', opts['flat-jobs'], 1_000);
  const wave = int('wave', opts.wave, 1_000);
  const concurrency = int('flat-concurrency', opts['flat-concurrency'], 1);
  const ttl = durationLabel(toMs(opts['result-ttl'] ?? DEFAULT_RESULT_TTL, '--result-ttl'));
  const defaultTtl = ttl === durationLabel(toMs(DEFAULT_RESULT_TTL, 'resultTtl'));
  // The driver's app and every worker process it spawns (they inherit this environment) read it in app.ts.
  if (defaultTtl) delete process.env[RESULT_TTL_ENV];
  else process.env[RESULT_TTL_ENV] = ttl;
  const schema = `${runToken}_flat_conveyor`;
  const { rows: [av] } = await admin.query<{ autovacuum: string }>('SHOW autovacuum');
  const origin = privateServer ? `a private PostgreSQL started for this run (initdb in a temp folder, stock settings, port ${privateServer.port})` : 'the one `--url` names';
  log(`conveyor postgres bench --flat: run ${runToken}, ${fmt(jobs)} jobs in waves of ${fmt(wave)}, one worker process at c${concurrency} per wave, result TTL ${ttl}; ${origin}, autovacuum ${av!.autovacuum}`);
  try {
    const waves = await runFlat({ url: pgUrl, admin, schema, jobs, wave, concurrency, timeoutMs: Math.max(TIMEOUT_MS, 600_000), log });
    process.stdout.write(`\n${formatFlatTable(waves)}\n`);
    if (opts['no-results']) return;
    const args = commandArgs();
    const body = formatFlatSection({
      date: new Date(),
      command: `npm run build && npm run bench:postgres -- ${args.join(' ')}`,
      machine: machine(tmpdir()),
      server: await serverLine(),
      autovacuum: av!.autovacuum,
      serverOrigin: origin,
      jobs, wave, concurrency, ttl, defaultTtl,
      sweepEvery: SWEEP_EVERY,
      load: [loadAtStart, loadavg()[0]!],
      totalSeconds: (performance.now() - started) / 1000,
      waves,
    });
    const { start, end } = flatMarkers(ttl);
    const { text, after } = prepareFlatSection(existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : '# PostgreSQL results\n', ttl, DEFAULT_RESULT_TTL);
    writeFileSync(opts.out, replaceSection(text, start, end, body, after));
    log(`wrote ${opts.out}`);
  } finally {
    await dropSchema(admin, schema);
  }
}

try {
  await (opts.flat ? flatRun() : mainRun());
} finally {
  for (const schema of await leftSchemas().catch(() => [])) await dropSchema(admin, schema).catch(() => undefined);
  await admin.end();
  await privateServer?.stop();
}
