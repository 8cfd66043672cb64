/**
 * The Redis bench's figures: every run of every scenario on each side, and the table rows made
 * from them (the median run of each side, its spread, the ratio's target).
 */
import type { LatencyFigures, ProcessingFigures } from './redis-measure.js';
import type { CommandMix, Row } from './redis-report.js';
import type { EnqueueMode, SideName } from './redis-side.js';

/** Runs of one scenario, per side. */
export type Runs<T> = Partial<Record<SideName, T[]>>;

/** Enqueue modes in table order, with their row names. */
export const ENQUEUE_ROWS: readonly [EnqueueMode, string][] = [['sequential', 'enqueue.sequential'], ['concurrent', 'enqueue.concurrent'], ['bulk', 'enqueue.bulk1000']];

export interface RowParams {
  jobs: number;
  enqueueJobs: number;
  memoryJobs: number;
  rate: number;
  seconds: number;
  latencyConcurrency: number;
}

const SIDES = ['conveyor', 'bullmq'] as const;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const push = <T>(runs: Runs<T>, side: SideName, value: T) => (runs[side] ??= []).push(value);

/** The median run by `key` (the lower middle one of an even count). */
function median<T>(runs: T[] | undefined, key: (t: T) => number): T | undefined {
  if (!runs?.length) return undefined;
  return [...runs].sort((a, b) => key(a) - key(b))[(runs.length - 1) >> 1];
}

function medians<T>(runs: Runs<T>, key: (t: T) => number): { conveyor?: T; bullmq?: T } {
  return { conveyor: median(runs.conveyor, key), bullmq: median(runs.bullmq, key) };
}

/** `; median of 3 (conveyor 10-12, bullmq 7-9)`, or nothing for single runs. */
function spread<T>(runs: Runs<T>, key: (t: T) => number): string {
  const count = Math.max(...SIDES.map((s) => runs[s]?.length ?? 0));
  if (count <= 1) return '';
  const part = (s: SideName) => {
    const values = (runs[s] ?? []).map(key).sort((a, b) => a - b);
    return values.length ? `${s} ${fmt(values[0]!)}-${fmt(values.at(-1)!)}` : '';
  };
  return `; median of ${count} (${SIDES.map(part).filter(Boolean).join(', ')})`;
}

export class Figures {
  readonly #processing = new Map<number, Runs<ProcessingFigures>>();
  readonly #enqueue = new Map<EnqueueMode, Runs<number>>();
  readonly #latency: Runs<LatencyFigures> = {};
  readonly #memory: Runs<number> = {};

  addProcessing(side: SideName, concurrency: number, f: ProcessingFigures): void {
    if (!this.#processing.has(concurrency)) this.#processing.set(concurrency, {});
    push(this.#processing.get(concurrency)!, side, f);
  }

  addEnqueue(side: SideName, mode: EnqueueMode, jobsPerSec: number): void {
    if (!this.#enqueue.has(mode)) this.#enqueue.set(mode, {});
    push(this.#enqueue.get(mode)!, side, jobsPerSec);
  }

  addLatency(side: SideName, f: LatencyFigures): void {
    push(this.#latency, side, f);
  }

  addMemory(side: SideName, bytesPerJob: number): void {
    push(this.#memory, side, bytesPerJob);
  }

  /** The table, in a fixed order, and the command mix of each processing run shown. */
  rows(p: RowParams): { rows: Row[]; mixes: CommandMix[] } {
    const proc = [...this.#processing].sort((a, b) => a[0] - b[0]).map(([c, runs]) => ({ c, runs, m: medians(runs, (f) => f.jobsPerSec) }));
    const rows: Row[] = [];
    const mixes: CommandMix[] = [];
    for (const { c, runs, m } of proc) {
      rows.push(this.#processingRow(p, c, runs, m));
      for (const s of SIDES) {
        const f = m[s];
        if (f) mixes.push({ side: s, concurrency: c, perJob: f.commandsPerJob, top: f.server.commands.slice(0, 8).map(([name, st]) => [name, st.calls / p.jobs]) });
      }
    }
    for (const [mode, name] of ENQUEUE_ROWS) {
      const runs = this.#enqueue.get(mode);
      if (!runs) continue;
      const m = medians(runs, (v) => v);
      rows.push({ name, unit: 'jobs/s', conveyor: m.conveyor, bullmq: m.bullmq, better: 'higher', target: mode === 'bulk' ? { ratio: 2 } : undefined, detail: `${fmt(p.enqueueJobs)} jobs${spread(runs, (v) => v)}` });
    }
    rows.push(...this.#latencyRows(p));
    const perJob = [
      ['redis.cmds', 'calls/job', (f: ProcessingFigures) => f.commandsPerJob, 'INFO commandstats calls (in-script commands included) / jobs; top commands below'],
      ['node.cpu', 'µs/job', (f: ProcessingFigures) => f.nodeCpuUsPerJob, 'worker process user+system CPU / jobs'],
      ['redis.cpu', 'µs/job', (f: ProcessingFigures) => f.redisCpuUsPerJob, 'Redis server user+system CPU / jobs'],
    ] as const;
    for (const [prefix, unit, value, what] of perJob) {
      for (const { c, m } of proc) {
        rows.push({ name: `${prefix}.c${c}`, unit, conveyor: m.conveyor && value(m.conveyor), bullmq: m.bullmq && value(m.bullmq), better: 'lower', detail: `${what}, processing run at c${c}` });
      }
    }
    if (this.#memory.conveyor || this.#memory.bullmq) {
      const m = medians(this.#memory, (v) => v);
      const mib = (v: number | undefined) => (v === undefined ? '-' : `${((v * p.memoryJobs) / 2 ** 20).toFixed(1)} MiB`);
      rows.push({ name: 'memory.queued', unit: 'bytes/job', conveyor: m.conveyor, bullmq: m.bullmq, better: 'lower', target: 'no-worse', detail: `used_memory delta of ${fmt(p.memoryJobs)} queued jobs: conveyor ${mib(m.conveyor)}, bullmq ${mib(m.bullmq)}` });
    }
    return { rows, mixes };
  }

  #processingRow(p: RowParams, c: number, runs: Runs<ProcessingFigures>, m: { conveyor?: ProcessingFigures; bullmq?: ProcessingFigures }): Row {
    const side = (s: SideName) => {
      const f = m[s];
      return f ? `${s} store ${(f.storeMs / 1000).toFixed(2)} s, wall ${(f.wallMs / 1000).toFixed(2)} s, redelivered ${f.redelivered}${f.timedOut ? `, TIMED OUT ${f.completed}/${p.jobs}` : ''}` : '';
    };
    const detail = `${fmt(p.jobs)} jobs; ${SIDES.map(side).filter(Boolean).join('; ')}${spread(runs, (f) => f.jobsPerSec)}`;
    return { name: `process.c${c}`, unit: 'jobs/s', conveyor: m.conveyor?.jobsPerSec, bullmq: m.bullmq?.jobsPerSec, better: 'higher', target: c >= 10 ? { ratio: 2 } : undefined, detail };
  }

  #latencyRows(p: RowParams): Row[] {
    if (!this.#latency.conveyor && !this.#latency.bullmq) return [];
    const m = medians(this.#latency, (f) => f.p99);
    const sent = SIDES.map((s) => (m[s] ? fmt(m[s].sentPerSec) : '-')).join('/');
    const base = `${fmt(p.rate * p.seconds)} jobs at ${p.rate}/s (sent ${sent}/s), worker at c${p.latencyConcurrency}, idle before`;
    return (['p50', 'p95', 'p99'] as const).map((q): Row => ({
      name: `latency.${q}`, unit: 'ms', conveyor: m.conveyor?.[q], bullmq: m.bullmq?.[q], better: 'lower',
      target: q === 'p99' ? 'no-worse' : undefined,
      detail: q === 'p99' ? `${base}; max ${m.conveyor?.max ?? '-'}/${m.bullmq?.max ?? '-'} ms${spread(this.#latency, (f) => f.p99)}` : base,
    }));
  }
}
