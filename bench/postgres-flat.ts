/**
 * `--flat`: many no-op jobs through Conveyor's PostgreSQL store in waves, in one schema, to show
 * whether throughput and the hot table stay flat as finished jobs pile up (issue: "flat over 1M
 * jobs"). Per wave: `wave` jobs enqueued in bulk (timed), then a fresh worker process drains
 * them (jobs/s timed as in `process.cC`), then the size of every table of the schema
 * (`pg_total_relation_size`: heap, indexes and TOAST), the size of the ready path's indexes
 * (`jobs_ready`, which workers reserve from, measured full after the enqueue and again after the
 * drain; `jobs_leased`, which recovery scans), and the hot table's rows (exact), dead rows (an
 * estimate), how many times autovacuum has vacuumed it so far, and the server's checkpoints
 * since the run began (a WAL-heavy run on stock settings checkpoints every few tens of seconds).
 * Table names are read from the catalog, so this keeps working when the store's tables change.
 *
 * Finished jobs are deleted only by the worker processes' own maintenance loop
 * (`store.jobsDeleteExpired()` in every recovery pass), never by this driver: with a short
 * `resultTtl` the rows of one wave go during the next.
 */
import type pg from 'pg';
import type { Machine } from './report.js';
import { conveyorPgSide } from './postgres-conveyor.js';
import { WorkerProcess } from './redis-side.js';

export interface FlatParams {
  url: string;
  admin: pg.Pool;
  schema: string;
  jobs: number;
  wave: number;
  concurrency: number;
  timeoutMs: number;
  log: (line: string) => void;
}

export interface FlatWave {
  wave: number;
  /** Jobs sent so far, this wave included. */
  total: number;
  /** Seconds from the start of the first wave's enqueue to the end of this wave's drain. */
  atSeconds: number;
  enqueuePerSec: number;
  processPerSec: number;
  timedOut: boolean;
  /** Bytes per table of the schema, by table name. */
  tables: Record<string, number>;
  /** Bytes of each ready-path index after the drain, by index name. */
  indexes: Record<string, number>;
  /** Bytes of the ready index right after the enqueue, holding the wave's jobs. */
  readyFullBytes: number;
  /** `count(*)` of the hot table after the drain. */
  rows: number;
  /** `n_dead_tup` of the hot table (an estimate). */
  deadRows: number;
  /** Autovacuum passes over the hot table so far. */
  autovacuums: number;
  /** Checkpoints of the server (timed and requested) since the first wave began. */
  checkpoints: number;
}

/** The store's hot table: the one workers reserve from. */
const HOT_TABLE = 'jobs';
/** The hot table's ready path: the index workers reserve from, and the one recovery scans for lapsed leases. */
export const READY_INDEX = 'jobs_ready';
export const LEASED_INDEX = 'jobs_leased';
const PATH_INDEXES = [READY_INDEX, LEASED_INDEX];

async function tableSizes(admin: pg.Pool, schema: string): Promise<Record<string, number>> {
  const { rows } = await admin.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
}

/** `pg_relation_size` of each ready-path index (0 for one the schema lacks). */
async function indexSizes(admin: pg.Pool, schema: string): Promise<Record<string, number>> {
  const { rows } = await admin.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'i' AND c.relname = ANY($2)`,
    [schema, PATH_INDEXES],
  );
  const found = new Map(rows.map((r) => [r.name, Number(r.bytes)]));
  return Object.fromEntries(PATH_INDEXES.map((name) => [name, found.get(name) ?? 0]));
}

async function hotRows(admin: pg.Pool, schema: string): Promise<{ rows: number; dead: number; autovacuums: number }> {
  const stats = await admin.query<{ dead: string; av: string }>(
    `SELECT n_dead_tup AS dead, autovacuum_count AS av FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
    [schema, HOT_TABLE],
  );
  const count = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(HOT_TABLE)}`);
  const s = stats.rows[0];
  return { rows: Number(count.rows[0]!.n), dead: Number(s?.dead ?? 0), autovacuums: Number(s?.av ?? 0) };
}

/** Checkpoints of the whole server so far, timed and requested (`pg_stat_bgwriter`). */
async function checkpoints(admin: pg.Pool): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(`SELECT checkpoints_timed + checkpoints_req AS n FROM pg_stat_bgwriter`);
  return Number(rows[0]!.n);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function runFlat(p: FlatParams): Promise<FlatWave[]> {
  const space = await conveyorPgSide(p.url).open(p.schema);
  const waves: FlatWave[] = [];
  const checkpointsAtStart = await checkpoints(p.admin);
  const start = performance.now();
  try {
    for (let sent = 0, wave = 1; sent < p.jobs; wave++) {
      const n = Math.min(p.wave, p.jobs - sent);
      const t0 = performance.now();
      await space.enqueueBulk(n);
      const enqueuePerSec = n / ((performance.now() - t0) / 1000);
      sent += n;
      const readyFullBytes = (await indexSizes(p.admin, p.schema))[READY_INDEX]!;
      const worker = new WorkerProcess(space.workerCommand(p.concurrency), []);
      let processPerSec = 0;
      let timedOut = false;
      try {
        const deadline = performance.now() + p.timeoutMs;
        if (await worker.waitDone(1, deadline)) {
          const [t1, d1] = [performance.now(), worker.done];
          timedOut = !(await worker.waitDone(n, deadline));
          processPerSec = ((worker.done - d1) / Math.max(1, performance.now() - t1)) * 1000;
        } else timedOut = true;
      } finally {
        await worker.stop();
      }
      const atSeconds = (performance.now() - start) / 1000;
      const tables = await tableSizes(p.admin, p.schema);
      const indexes = await indexSizes(p.admin, p.schema);
      const { rows, dead, autovacuums } = await hotRows(p.admin, p.schema);
      const checkpointsSoFar = (await checkpoints(p.admin)) - checkpointsAtStart;
      const w: FlatWave = { wave, total: sent, atSeconds, checkpoints: checkpointsSoFar, enqueuePerSec, processPerSec, timedOut, tables, indexes, readyFullBytes, rows, deadRows: dead, autovacuums };
      waves.push(w);
      p.log(formatFlatLine(w));
    }
  } finally {
    await space.close();
  }
  return waves;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** An index's size: KiB below 1 MiB, where a small index's growth would hide behind `0.0 MiB`. */
const indexSize = (bytes: number) => (bytes < 2 ** 20 ? `${fmt(bytes / 1024)} KiB` : mib(bytes));

/** Tables worth a column: the hot one, and any other that holds more than 1 MiB in some wave. */
function shownTables(waves: readonly FlatWave[]): string[] {
  const names = new Set<string>([HOT_TABLE]);
  for (const w of waves) for (const [name, bytes] of Object.entries(w.tables)) if (bytes > 2 ** 20) names.add(name);
  return [...names];
}

export function formatFlatLine(w: FlatWave): string {
  const sizes = Object.entries(w.tables).filter(([name, bytes]) => name === HOT_TABLE || bytes > 2 ** 20).map(([name, bytes]) => `${name} ${mib(bytes)}`);
  const path = `${READY_INDEX} ${indexSize(w.readyFullBytes)} full / ${indexSize(w.indexes[READY_INDEX] ?? 0)} drained, ${LEASED_INDEX} ${indexSize(w.indexes[LEASED_INDEX] ?? 0)}`;
  return `  wave ${w.wave} (${fmt(w.total)} jobs sent, at ${fmt(w.atSeconds)} s): enqueue ${fmt(w.enqueuePerSec)} jobs/s, process ${fmt(w.processPerSec)} jobs/s${w.timedOut ? ' TIMED OUT' : ''}; ${sizes.join(', ')}; ${path}; ${HOT_TABLE} rows ${fmt(w.rows)} (dead ${fmt(w.deadRows)}), autovacuums ${w.autovacuums}, checkpoints ${w.checkpoints}`;
}

export function formatFlatTable(waves: readonly FlatWave[]): string {
  const tables = shownTables(waves);
  const header = ['wave', 'jobs sent', 'at s', 'enqueue jobs/s', 'process jobs/s', ...tables.map((t) => `${t} size`), `${READY_INDEX} full / drained`, LEASED_INDEX, `${HOT_TABLE} rows`, 'dead rows (est.)', 'autovacuums', 'checkpoints'];
  const rows = waves.map((w) => [
    String(w.wave), fmt(w.total), fmt(w.atSeconds), fmt(w.enqueuePerSec), `${fmt(w.processPerSec)}${w.timedOut ? ' (timed out)' : ''}`,
    ...tables.map((t) => mib(w.tables[t] ?? 0)),
    `${indexSize(w.readyFullBytes)} / ${indexSize(w.indexes[READY_INDEX] ?? 0)}`, indexSize(w.indexes[LEASED_INDEX] ?? 0),
    fmt(w.rows), fmt(w.deadRows), String(w.autovacuums), String(w.checkpoints),
  ]);
  return [`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export interface FlatSectionDoc {
  date: Date;
  command: string;
  machine: Pick<Machine, 'nproc' | 'cpu' | 'memoryGiB' | 'os' | 'node'>;
  /** The server line (version, where, settings). */
  server: string;
  /** `SHOW autovacuum` on that server. */
  autovacuum: string;
  /** Where the server came from: a private one started for the run, or `--url`. */
  serverOrigin: string;
  jobs: number;
  wave: number;
  concurrency: number;
  /** The result TTL as labelled (e.g. `24h`), and whether it is the app's default. */
  ttl: string;
  defaultTtl: boolean;
  /** The worker processes' recovery pass (where `jobsDeleteExpired` runs), as a phrase. */
  sweepEvery: string;
  load: [number, number];
  totalSeconds: number;
  waves: readonly FlatWave[];
}

/** The `--flat` section of `RESULTS-postgres.md` for one result TTL (markers: `flatMarkers`). */
export function formatFlatSection(d: FlatSectionDoc): string {
  const m = d.machine;
  const ttlText = d.defaultTtl
    ? `the app's default result TTL, ${d.ttl}: every finished job stays in \`${HOT_TABLE}\` for the whole run, so the heap grows by design`
    : `result TTL ${d.ttl} (\`CONVEYOR_BENCH_RESULT_TTL=${d.ttl}\`, read by \`bench/app.ts\` into \`new Conveyor({ resultTtl })\` in the driver and every worker process)`;
  return `## Conveyor over ${fmt(d.jobs)} jobs, result TTL ${d.ttl}: is it flat?

Generated by \`bench/postgres.ts --flat\` (this section only; one such section per result TTL).

- Date: ${d.date.toISOString()}
- Command: \`${d.command}\`
- Machine: nproc ${m.nproc}, ${m.cpu}, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}
- Server: ${d.serverOrigin}; ${d.server}
- Autovacuum (\`SHOW autovacuum\`): **${d.autovacuum}**
- Jobs: ${ttlText}
- Load average (1 min) at start ${d.load[0].toFixed(2)}, at end ${d.load[1].toFixed(2)}; whole run ${d.totalSeconds.toFixed(0)} s

One schema for the whole run; each wave sends ${fmt(d.wave)} no-op jobs in bulk (\`store.jobsEnqueue\`,
1,000 a call), then a fresh \`node dist/bench/worker.js <url>?schema=… ${d.concurrency}\` drains them
(jobs/s timed as \`process.cC\` above). Expired results are deleted only by the worker processes'
own maintenance loop (\`store.jobsDeleteExpired()\` in each recovery pass, ${d.sweepEvery}); this
driver never calls it, and nothing deletes between waves or after the last one. After each wave:
\`${HOT_TABLE} size\` (and any other table above 1 MiB) is \`pg_total_relation_size\` (heap, indexes,
TOAST); \`${READY_INDEX}\` (the partial index workers reserve from) and \`${LEASED_INDEX}\` (the partial
index of running jobs' leases) are \`pg_relation_size\`, \`${READY_INDEX}\` both right after the
enqueue (full: the wave's jobs waiting) and after the drain; \`${HOT_TABLE} rows\` is \`count(*)\`;
dead rows is \`pg_stat_user_tables.n_dead_tup\` (an estimate); autovacuums is its \`autovacuum_count\`
for \`${HOT_TABLE}\` so far (counted when a pass ends); checkpoints are the server's (\`pg_stat_bgwriter\`,
timed + requested) since the first wave began; at s is the time from then to the end of the wave.

${formatFlatTable(d.waves)}`;
}
