/**
 * `conveyor enqueue <task> --from jobs.jsonl`: send many jobs of one task from a JSON Lines file.
 *
 * One job per line; blank lines are skipped. A line is either
 *   ["ann@example.com", "Ann"]                                  the task's args, or
 *   {"args": ["bob@example.com", "Bob"], "options": {"countdown": "10m"}}   args and options.
 * Options are those of `applyAsync` that JSON can carry: countdown, eta, expires (a duration),
 * queue, priority, taskId, idempotencyKey, idempotencyTtl. A line's `queue` wins over `--queue`.
 *
 * All or nothing on format: every line is checked first (JSON, args an array, args JSON-safe and
 * within the size limit, options valid). One bad line and nothing is sent: the bad lines are
 * listed and the command exits 2. Then jobs are sent in batches of `--batch`, each batch one store
 * transition, and a summary says how many were sent, how many were duplicates (a `taskId` or
 * `idempotencyKey` already held), and how fast.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Conveyor } from '../app.js';
import { InvalidArgumentError } from '../errors.js';
import type { ApplyOptions } from '../canvas.js';
import { buildJob } from '../message.js';
import { printJson } from './format.js';
import { withApp, type StoreFlags } from './load-app.js';
import { startBar } from './progress-bar.js';

export interface EnqueueFlags extends StoreFlags {
  from: string;
  queue?: string;
  batch: string;
  json?: boolean;
}

/** Bad lines listed in full; past this only their count is given. */
const MAX_LISTED = 20;

/** The `applyAsync` options a line may carry. */
const LINE_OPTIONS = ['countdown', 'eta', 'expires', 'queue', 'priority', 'taskId', 'idempotencyKey', 'idempotencyTtl'] as const;

/** One job of the file. */
interface JobLine {
  /** 1-based line number in the file (blank lines count). */
  line: number;
  args: unknown[];
  options: ApplyOptions;
}

interface BadLine {
  line: number;
  reason: string;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Read one line's args and options (the JSON shape only; `buildJob` checks the values).
 * @throws InvalidArgumentError with the reason.
 */
function parseLine(text: string, queue: string | undefined): Omit<JobLine, 'line'> {
  const base: ApplyOptions = queue ? { queue } : {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(value)) return { args: value, options: base };
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError(`must be a JSON array of args or an object {"args": [...], "options": {...}}, got ${kindOf(value)}`);
  }
  const { args, options, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new InvalidArgumentError(`unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')}: a line object has only "args" and "options"`);
  if (!Array.isArray(args)) throw new InvalidArgumentError(`"args" must be a JSON array of the task's arguments, got ${args === undefined ? 'none' : kindOf(args)}`);
  if (options === undefined) return { args, options: base };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new InvalidArgumentError(`"options" must be an object, got ${kindOf(options)}`);
  const unknown = Object.keys(options).filter((k) => !(LINE_OPTIONS as readonly string[]).includes(k));
  if (unknown.length) throw new InvalidArgumentError(`unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${LINE_OPTIONS.join(', ')})`);
  return { args, options: { ...base, ...(options as ApplyOptions) } };
}

/** The non-blank lines of a file, with their numbers, read as a stream (the file may be large). */
async function* linesOf(file: string): AsyncGenerator<{ line: number; text: string }> {
  const reader = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of reader) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() !== '') yield { line, text };
  }
}


/** Pass 1: check every line as the send will; answers the job count and the bad lines. */
async function checkFile(app: Conveyor, task: string, flags: EnqueueFlags): Promise<{ jobs: number; bad: BadLine[]; badCount: number }> {
  const defaults = app.jobDefaults(task);
  const bad: BadLine[] = [];
  let jobs = 0;
  let badCount = 0;
  for await (const { line, text } of linesOf(flags.from)) {
    jobs++;
    try {
      const { args, options } = parseLine(text, flags.queue);
      buildJob(task, args, defaults, options);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      badCount++;
      if (bad.length < MAX_LISTED) bad.push({ line, reason: err.message });
    }
  }
  return { jobs, bad, badCount };
}

/** How far the send got. */
interface SendProgress {
  sent: number;
  duplicates: number;
  /** The last line of the last batch written. */
  lastLine: number;
}

/** Pass 2: send the jobs, `batchSize` per store transition; `onBatch` hears after each. */
async function sendFile(app: Conveyor, task: string, flags: EnqueueFlags, batchSize: number, progress: SendProgress, onBatch: () => void): Promise<void> {
  let batch: JobLine[] = [];
  const flush = async () => {
    // Sends made in one turn are written by the app in one transition: all of the batch or none.
    const results = await Promise.all(batch.map((job) => app.send(task, job.args, job.options)));
    progress.sent += results.length;
    progress.duplicates += results.filter((r) => r.duplicate).length;
    progress.lastLine = batch.at(-1)!.line;
    batch = [];
    onBatch();
  };
  for await (const { line, text } of linesOf(flags.from)) {
    batch.push({ line, ...parseLine(text, flags.queue) });
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length) await flush();
}

function reportBadLines(file: string, bad: BadLine[], badCount: number, json: boolean): void {
  if (json) {
    printJson({ file, enqueued: 0, malformed: badCount, errors: bad });
    return;
  }
  const lines = bad.map((b) => `  line ${b.line}: ${b.reason}`);
  if (badCount > bad.length) lines.push(`  ... and ${badCount - bad.length} more`);
  process.stderr.write(`conveyor: error: ${file}: ${badCount} malformed line(s); nothing was enqueued\n${lines.join('\n')}\n`);
}

function parseBatch(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`--batch must be a positive integer (jobs per store transition), got "${text}"`);
  return n;
}

export async function enqueueCommand(task: string, flags: EnqueueFlags): Promise<number> {
  const batchSize = parseBatch(flags.batch);
  if (!existsSync(flags.from) || !statSync(flags.from).isFile()) throw new InvalidArgumentError(`--from ${flags.from}: no such file`);
  return withApp(flags, async (app) => {
    const { jobs, bad, badCount } = await checkFile(app, task, flags);
    if (badCount > 0) {
      reportBadLines(flags.from, bad, badCount, flags.json ?? false);
      return 2;
    }
    const bar = flags.json ? null : startBar('{bar} {percentage}% | {value}/{total} jobs | {eta_formatted} left', jobs, {});
    const started = performance.now();
    const outcome: SendProgress = { sent: 0, duplicates: 0, lastLine: 0 };
    try {
      await sendFile(app, task, flags, batchSize, outcome, () => bar?.update(outcome.sent));
    } catch (err) {
      bar?.stop();
      // Earlier batches are in the store: say where to resume.
      if (outcome.sent > 0) process.stderr.write(`conveyor: ${outcome.sent} job(s) were sent, through line ${outcome.lastLine}, before this failure:\n`);
      throw err;
    }
    bar?.stop();
    const seconds = (performance.now() - started) / 1000;
    const jobsPerSecond = seconds > 0 ? Math.round(outcome.sent / seconds) : outcome.sent;
    const summary = { task, file: flags.from, sent: outcome.sent, created: outcome.sent - outcome.duplicates, duplicates: outcome.duplicates, seconds: Number(seconds.toFixed(3)), jobsPerSecond };
    if (flags.json) printJson(summary);
    else {
      process.stdout.write(`sent ${summary.sent} job(s) of ${task} in ${seconds.toFixed(2)} s (${jobsPerSecond} jobs/s): `
        + `${summary.created} enqueued, ${summary.duplicates} duplicate(s) suppressed\n`);
    }
    return 0;
  });
}
