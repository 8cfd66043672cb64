/**
 * The PostgreSQL bench's output: a plain table in a stable format, one line per figure
 * (`name  unit  conveyor  bullmq  pgboss  graphile  ratio  target  verdict  detail`, ratio =
 * Conveyor / the fastest anchor), and a generated section of `bench/RESULTS-postgres.md`
 * between {@link SECTION_START} and {@link SECTION_END} (or {@link flatMarkers} for `--flat`, one
 * section per result TTL); the rest of the file, written by hand, is kept.
 */
import type { Machine } from './report.js';
import { PG_SIDES, type PgSideName } from './postgres-side.js';

/** One line of the table. */
export interface PgRow {
  name: string;
  unit: 'jobs/s' | 'ms';
  values: Partial<Record<PgSideName, number>>;
  /** Shown instead of a missing value, with why (e.g. `—` for a side that cannot). */
  missing?: Partial<Record<PgSideName, string>>;
  /** Values that are bounds (a latency run whose worker fell behind), shown with `≥` (or `≤` for jobs/s). */
  lowerBound?: Partial<Record<PgSideName, boolean>>;
  better: 'higher' | 'lower';
  /** `ratio`: Conveyor / the fastest anchor at least this; `no-worse`: Conveyor at least as good as every anchor. */
  target?: { ratio: number } | 'no-worse';
  detail: string;
}

const ANCHORS = PG_SIDES.filter((s) => s !== 'conveyor');
const DIGITS: Record<PgRow['unit'], number> = { 'jobs/s': 0, ms: 0 };

function cell(row: PgRow, side: PgSideName): string {
  const v = row.values[side];
  if (v === undefined) return row.missing?.[side] ?? '-';
  const text = v.toLocaleString('en-US', { minimumFractionDigits: DIGITS[row.unit], maximumFractionDigits: DIGITS[row.unit] });
  return row.lowerBound?.[side] ? `${row.better === 'higher' ? '≤' : '≥'}${text}` : text;
}

/** The fastest anchor of a row (highest jobs/s, lowest ms), if any anchor has a figure. */
export function bestAnchor(row: PgRow): { side: PgSideName; value: number } | undefined {
  let best: { side: PgSideName; value: number } | undefined;
  for (const side of ANCHORS) {
    const value = row.values[side];
    if (value === undefined) continue;
    if (!best || (row.better === 'higher' ? value > best.value : value < best.value)) best = { side, value };
  }
  return best;
}

export function ratioOf(row: PgRow): number | undefined {
  const best = bestAnchor(row);
  const c = row.values.conveyor;
  if (c === undefined || !best || best.value === 0) return undefined;
  return c / best.value;
}

export function verdictOf(row: PgRow): string {
  if (!row.target) return '';
  const best = bestAnchor(row);
  const c = row.values.conveyor;
  if (c === undefined || !best) return 'n/a';
  if (row.target === 'no-worse') return (row.better === 'lower' ? c <= best.value : c >= best.value) ? 'met' : 'NOT MET';
  return c / best.value >= row.target.ratio ? 'met' : 'NOT MET';
}

function targetText(row: PgRow): string {
  if (!row.target) return '';
  if (row.target === 'no-worse') return row.better === 'lower' ? '<= best' : '>= best';
  return `>= ${row.target.ratio.toFixed(2)}x`;
}

function columns(row: PgRow): string[] {
  const ratio = ratioOf(row);
  const best = bestAnchor(row);
  return [row.name, row.unit, ...PG_SIDES.map((s) => cell(row, s)), best?.side ?? '-', ratio === undefined ? '-' : ratio.toFixed(2), targetText(row), verdictOf(row), row.detail];
}

const HEADER = ['name', 'unit', ...PG_SIDES, 'best', 'ratio', 'target', 'verdict', 'detail'];

/** The plain table: fixed columns, one line per figure. */
export function formatTable(rows: readonly PgRow[]): string {
  const width = Math.max(...rows.map((r) => r.name.length), 'name'.length) + 2;
  const line = (c: string[]) =>
    `${c[0]!.padEnd(width)}${c[1]!.padEnd(8)}${c.slice(2, 6).map((v) => v.padStart(10)).join('')}  ${c[6]!.padEnd(9)}${c[7]!.padStart(6)}  ${c[8]!.padEnd(10)}${c[9]!.padEnd(9)}${c[10]}`.trimEnd();
  return [line(HEADER), ...rows.map((r) => line(columns(r)))].join('\n');
}

/** One line per target row. */
export function formatVerdicts(rows: readonly PgRow[]): string {
  return rows
    .filter((r) => r.target)
    .map((r) => {
      const best = bestAnchor(r);
      const ratio = ratioOf(r);
      return `${r.name}: ${verdictOf(r)} (conveyor ${cell(r, 'conveyor')} ${r.unit}, best anchor ${best ? `${best.side} ${cell(r, best.side)} ${r.unit}` : '-'}, ratio ${ratio === undefined ? '-' : ratio.toFixed(2)}, target ${targetText(r)})`;
    })
    .join('\n');
}

export const SECTION_START = '<!-- bench/postgres.ts: generated section, rewritten by each run -->';
export const SECTION_END = '<!-- end of bench/postgres.ts section -->';
/** The markers of the `--flat` section before runs were keyed by their result TTL (that run's was the default, 24 h). */
export const FLAT_START = '<!-- bench/postgres.ts --flat: generated section, rewritten by each --flat run -->';
export const FLAT_END = '<!-- end of bench/postgres.ts --flat section -->';

/** The markers of the `--flat` section of the runs with result TTL `ttl` (e.g. `24h`): one section per TTL. */
export function flatMarkers(ttl: string): { start: string; end: string } {
  return {
    start: `<!-- bench/postgres.ts --flat, result TTL ${ttl}: generated section, rewritten by each --flat run with that TTL -->`,
    end: `<!-- end of bench/postgres.ts --flat section, result TTL ${ttl} -->`,
  };
}

/**
 * `previous` ready for the `--flat` section of result TTL `ttl`, and the marker it goes after
 * when it is new: the last `--flat` section's end, else the main section's. The unkeyed section
 * of older runs becomes the default TTL's.
 */
export function prepareFlatSection(previous: string, ttl: string, defaultTtl: string): { text: string; after: string } {
  const { start, end } = flatMarkers(ttl);
  let text = previous;
  if (ttl === defaultTtl && !text.includes(start) && text.includes(FLAT_START)) text = text.replace(FLAT_START, start).replace(FLAT_END, end);
  const ends = [...text.matchAll(/<!-- end of bench\/postgres\.ts --flat section[^>]*-->/g)].map((m) => m[0]);
  return { text, after: ends.at(-1) ?? SECTION_END };
}

/**
 * `previous` with the text between `start` and `end` replaced by `body` (markers kept); if the
 * markers are not there yet, the section goes right after the file's title (or its `after` section).
 */
export function replaceSection(previous: string, start: string, end: string, body: string, after?: string): string {
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = previous.indexOf(start);
  const to = previous.indexOf(end);
  if (from >= 0 && to > from) return `${previous.slice(0, from)}${section}${previous.slice(to + end.length)}`;
  const afterAt = after === undefined ? -1 : previous.indexOf(after);
  if (afterAt >= 0) {
    const at = afterAt + after!.length;
    return `${previous.slice(0, at)}\n\n${section}${previous.slice(at)}`;
  }
  const title = previous.match(/^# .*\n/);
  if (!title) return `# PostgreSQL results\n\n${section}\n\n${previous}`;
  return `${title[0]}\n${section}\n\n${previous.slice(title[0].length).replace(/^\n+/, '')}`;
}

export interface PgResultsDoc {
  date: Date;
  command: string;
  params: string;
  machine: Pick<Machine, 'nproc' | 'cpu' | 'memoryGiB' | 'os' | 'node'>;
  server: string;
  libraries: string;
  settings: string[];
  load: [number, number];
  totalSeconds: number;
  rows: readonly PgRow[];
  leftSchemas: number;
}

export function formatPgResults(doc: PgResultsDoc): string {
  const m = doc.machine;
  const md = (s: string) => s.replace(/\|/g, '\\|');
  return `## Conveyor against BullMQ's PostgreSQL backend, pg-boss and graphile-worker

Generated by \`bench/postgres.ts\` (this section only; rerun it to refresh).

- Date: ${doc.date.toISOString()}
- Command: \`${doc.command}\`
- ${doc.params}; whole run ${doc.totalSeconds.toFixed(0)} s
- Machine: nproc ${m.nproc}, ${m.cpu}, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}
- ${doc.server}
- ${doc.libraries}
- Load average (1 min) at start ${doc.load[0].toFixed(2)}, at end ${doc.load[1].toFixed(2)}: the machine is shared with other work, so figures swing from run to run
- Schemas of this run left in the database afterwards: ${doc.leftSchemas}

Settings (c = the run's concurrency):

${doc.settings.map((s) => `- ${s}`).join('\n')}

ratio = Conveyor / the best anchor of the row (highest jobs/s, lowest ms). \`≥\`: a lower bound,
the worker fell behind and had not started every job when it was stopped (see detail). \`—\`:
the side cannot do it.

| ${HEADER.join(' | ')} |
| --- | --- | ${PG_SIDES.map(() => '---:').join(' | ')} | --- | ---: | --- | --- | --- |
${doc.rows.map((r) => `| ${columns(r).map(md).join(' | ')} |`).join('\n')}

Targets (issue: processing at least 3× the fastest anchor at c=10 and c=100; p99 no worse than theirs):

\`\`\`
${formatVerdicts(doc.rows)}
\`\`\`

How to read it:

- Every measurement runs in a fresh schema of its own (Conveyor \`?schema=\`, BullMQ's
  \`{ connectionString, schema }\`, pg-boss \`schema\`, graphile-worker \`schema\`), dropped right
  after it; the order of the sides rotates from one scenario to the next.
- \`process.cC\`: the jobs enqueued first (bulk), then ONE worker process at concurrency C
  (\`node dist/bench/worker.js <url>?schema=… C\`, or \`node dist/bench/pg-anchor-worker.js <anchor> …\`).
  jobs/s by the driver's clock between the worker's first progress line that counted a finished
  job and the one that counted the last (progress lines every 50 ms), so startup does not count
  and every side is timed alike. A run that reaches the timeout reports its rate so far.
- \`enqueue.bulk1000\`: Conveyor \`store.jobsEnqueue\`, BullMQ \`addBulk\`, pg-boss \`insert\`,
  graphile-worker \`addJobs\`, 1,000 jobs a call, one call at a time.
- \`enqueue.tx\`: one node-postgres client; per job \`BEGIN\`, one send on that client, \`COMMIT\`:
  Conveyor \`applyAsync([i], { tx: client })\`, pg-boss \`send(…, { db: { executeSql } })\` on the
  client, graphile-worker \`SELECT <schema>.add_job(…)\` on the client. BullMQ's backend takes no
  caller's connection or transaction (its \`IQueueBackend\` exposes none), so it has no figure.
- \`latency.*\`: one worker process at concurrency 10, connected and idle (one warm-up job, then
  1 s idle), jobs sent on a steady schedule with each side's single send; start − enqueue per
  job from each side's own timestamps (Conveyor \`enqueuedAt\`/\`startedAt\`, BullMQ
  \`added_at_ms\`/\`processed_at_ms\`, pg-boss \`created_on\`/\`started_on\`, graphile-worker
  \`created_at\`/\`locked_at\`), all on this one machine's clock; nearest-rank percentiles. Jobs
  not started when the worker is stopped (the timeout after the last send) count with their
  wait so far, making the figure a lower bound.
`;
}
