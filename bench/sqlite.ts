/**
 * Benchmark of the SQLite store: enqueue throughput, and processing of no-op jobs at concurrency
 * 1, 10 and 100 with 1 and 2 worker processes, against a bare better-sqlite3 ceiling measured in
 * the same run. Prints a table and writes bench/RESULTS.md.
 *
 *   npm run build && npm run bench
 *   node dist/bench/sqlite.js [--jobs 20000] [--runs 3] [--only <regexp>] [--out <file>|--no-results]
 *                             [--timeout <s>] [--cpu-prof-dir <dir>] [--keep]
 *
 * Every scenario runs `--runs` times, in rounds (all scenarios, then all again), each time on a
 * fresh SQLite file in one temp folder (removed at the end; `--keep` keeps it), and the median run
 * is reported: single runs on a small, shared machine vary by tens of percent.
 *
 * `--cpu-prof-dir` runs the worker processes under `node --cpu-prof`, one profile per process;
 * summarize one with `node dist/bench/cpuprofile.js <file>`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureInsert } from './baseline.js';
import { formatResults, formatTable, machine, TARGET_JOBS_PER_SEC, type Row } from './report.js';
import { scenarios, type Compare, type Measured, type Scenario } from './scenarios.js';

const { values: opts } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url)) },
    'no-results': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '60' },
    'cpu-prof-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const N = Number(opts.jobs);
if (!Number.isInteger(N) || N < 1_000) throw new Error(`--jobs must be an integer >= 1000, got ${opts.jobs}`);
const RUNS = Number(opts.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be an integer >= 1, got ${opts.runs}`);
const only = opts.only === undefined ? undefined : new RegExp(opts.only);
const timeoutMs = Number(opts.timeout) * 1000;
const nodeArgs = opts['cpu-prof-dir'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts['cpu-prof-dir']}`];

const started = performance.now();
const loadAtStart = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'conveyor-bench-'));
let files = 0;
const fresh = (name: string) => join(dir, `${String(++files).padStart(3, '0')}-${name}.db`);
const rate = (n: number) => Math.round(n).toLocaleString('en-US');

const all = scenarios({ n: N, concurrencies: [1, 10, 100], processes: [1, 2], timeoutMs, nodeArgs });
// The two baselines the ratios use always run.
const chosen = all.filter((s) => s.compare === 'baseline' || !only || only.test(s.name));
const results = new Map<Scenario, Measured[]>(chosen.map((s) => [s, []]));

/** One table row from a scenario's runs: the median run, and the spread. */
function toRow(s: Scenario, runs: Measured[], base: Record<Compare, number>): Row {
  const sorted = [...runs].sort((a, b) => a.jobsPerSec - b.jobsPerSec);
  const median = sorted[(sorted.length - 1) >> 1]!;
  const spread = sorted.length === 1 ? '1 run' : `median of ${sorted.length} (${rate(sorted[0]!.jobsPerSec)}-${rate(sorted.at(-1)!.jobsPerSec)})`;
  let detail = `${s.what}; ${spread}`;
  const f = median.processing;
  if (f) {
    const redelivered = runs.reduce((sum, r) => sum + r.processing!.redelivered, 0);
    const split = f.perWorker.length > 1 ? `, split ${f.perWorker.join('/')}` : '';
    const timedOut = runs.filter((r) => r.processing!.timedOut).map((r) => `${r.processing!.succeeded}/${N}`);
    detail = `store ${(f.storeMs / 1000).toFixed(2)} s, wall ${(f.wallMs / 1000).toFixed(2)} s incl. startup${split}; ${spread}; redelivered ${redelivered}`
      + (timedOut.length ? `; TIMED OUT (${timedOut.join(', ')} done)` : '');
  }
  return { name: s.name, jobsPerSec: median.jobsPerSec, ratio: s.compare === 'baseline' ? null : median.jobsPerSec / base[s.compare], detail };
}

try {
  process.stderr.write(`conveyor bench: ${N} jobs per scenario, ${RUNS} round(s), temp folder ${dir}\n`);
  measureInsert(fresh('warm-up'), 2_000); // load and JIT-compile the SQLite paths before any clock starts
  for (let round = 1; round <= RUNS; round++) {
    for (const s of chosen) {
      const m = await s.measure(fresh);
      results.get(s)!.push(m);
      process.stderr.write(`  round ${round} ${s.name}: ${rate(m.jobsPerSec)} jobs/s\n`);
    }
  }
  const medianOf = (name: string) => {
    const runs = results.get(chosen.find((s) => s.name === name)!)!.map((m) => m.jobsPerSec).sort((a, b) => a - b);
    return runs[(runs.length - 1) >> 1]!;
  };
  const base: Record<Compare, number> = { baseline: 1, insert: medianOf('baseline.insert'), 'reserve+complete': medianOf('baseline.reserve+complete') };
  const rows = chosen.map((s) => toRow(s, results.get(s)!, base));

  const single = rows.filter((r) => r.name.startsWith('process.') && r.name.endsWith('.p1'));
  const list = (rs: Row[]) => rs.map((r) => `${r.name} ${rate(r.jobsPerSec)}`).join(', ');
  const met = single.filter((r) => r.jobsPerSec >= TARGET_JOBS_PER_SEC);
  const below = single.filter((r) => r.jobsPerSec < TARGET_JOBS_PER_SEC);
  const verdict = single.length === 0 ? 'Not measured in this run.'
    : below.length === 0 ? `Met at every concurrency: ${list(met)} jobs/s.`
    : `${met.length ? `Met: ${list(met)} jobs/s. ` : ''}Not met: ${list(below)} jobs/s.`;

  process.stdout.write(`\n${formatTable(rows)}\n\ntarget ${rate(TARGET_JOBS_PER_SEC)} jobs/s with 1 worker process: ${verdict}\n`);
  if (!opts['no-results']) {
    const args = process.argv.slice(2);
    const command = `npm run build && npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
    const totalSeconds = (performance.now() - started) / 1000;
    writeFileSync(opts.out, formatResults({ date: new Date(), command, n: N, runs: RUNS, machine: machine(dir), load: [loadAtStart, loadavg()[0]!], rows, verdict, totalSeconds }));
    process.stderr.write(`wrote ${opts.out}\n`);
  }
} finally {
  if (opts.keep) process.stderr.write(`kept ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
