/**
 * The scenarios of the SQLite bench, each a name, what it is compared with, and one measurement
 * on a fresh file. The driver runs them round-robin so a burst of other work on the machine
 * lands on one run of many scenarios, not on every run of one.
 */
import { measureInsert, measureProcess } from './baseline.js';
import { measureEnqueue, type EnqueueMode } from './enqueue.js';
import { measureProcessing, type ProcessingFigures } from './processing.js';

/** What a scenario's ratio is taken against. */
export type Compare = 'baseline' | 'insert' | 'reserve+complete';

/** One measurement: a rate, and the processing figures when there are some. */
export interface Measured {
  jobsPerSec: number;
  processing?: ProcessingFigures;
}

export interface Scenario {
  name: string;
  compare: Compare;
  /** What it does, for the detail column. */
  what: string;
  measure(fresh: (name: string) => string): Promise<Measured> | Measured;
}

export interface ScenarioParams {
  n: number;
  concurrencies: readonly number[];
  processes: readonly number[];
  timeoutMs: number;
  nodeArgs: readonly string[];
}

/** Every scenario, in table order; the first two are the baselines the ratios use. */
export function scenarios(p: ScenarioParams): Scenario[] {
  const list: Scenario[] = [
    {
      name: 'baseline.insert', compare: 'baseline', what: 'bare better-sqlite3, 1,000 rows/transaction',
      measure: (fresh) => ({ jobsPerSec: measureInsert(fresh('baseline-insert'), p.n) }),
    },
    {
      name: 'baseline.reserve+complete', compare: 'baseline', what: 'bare better-sqlite3, 100 rows reserved+completed/transaction',
      measure: (fresh) => ({ jobsPerSec: measureProcess(fresh('baseline-process'), p.n, 100, 1) }),
    },
  ];
  for (const b of p.concurrencies) {
    list.push({
      name: `baseline.split.b${b}`, compare: 'reserve+complete',
      what: `bare better-sqlite3, ${b} reserved/transaction then completed/transaction (worker shape at c${b})`,
      measure: (fresh) => ({ jobsPerSec: measureProcess(fresh(`baseline-split-b${b}`), p.n, b, 2) }),
    });
  }
  const enqueueModes: [EnqueueMode, string, string][] = [
    ['sequential', 'enqueue.sequential', 'await task.delay(i), one at a time'],
    ['concurrent', 'enqueue.concurrent', 'Promise.all of 1,000 task.delay() at a time'],
    ['batch', 'enqueue.batch1000', 'store.jobsEnqueue() of 1,000 jobs per call'],
  ];
  for (const [mode, name, what] of enqueueModes) {
    list.push({ name, compare: 'insert', what, measure: async (fresh) => ({ jobsPerSec: await measureEnqueue(fresh(name), mode, p.n) }) });
  }
  for (const processes of p.processes) {
    for (const concurrency of p.concurrencies) {
      const name = `process.c${concurrency}.p${processes}`;
      list.push({
        name, compare: 'reserve+complete', what: `${processes} worker process(es) at concurrency ${concurrency}`,
        measure: async (fresh) => {
          const f = await measureProcessing({ file: fresh(name), n: p.n, concurrency, processes, timeoutMs: p.timeoutMs, nodeArgs: p.nodeArgs });
          return { jobsPerSec: f.jobsPerSec, processing: f };
        },
      });
    }
  }
  return list;
}
