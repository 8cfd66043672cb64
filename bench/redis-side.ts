/**
 * The two sides of the Redis bench behind one shape, so every scenario runs the same code on
 * Conveyor's Redis store and on BullMQ:
 *
 * - side   one queue library (`redis-conveyor.ts`, `bullmq-side.ts`).
 * - space  one fresh namespace of a side on the shared Redis: a key prefix unique to the run
 *          and the scenario, opened for one measurement and deleted after it.
 *
 * Also the worker process handle: spawn, wait for the jobs to be done by its progress lines,
 * stop with SIGTERM and read the CPU it reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseProgressLine, type ProgressLine } from './redis-progress.js';

export type SideName = 'conveyor' | 'bullmq';
export type EnqueueMode = 'sequential' | 'concurrent' | 'bulk';

/** Jobs in flight at once in the concurrent enqueue mode, and jobs per bulk call. */
export const CHUNK = 1_000;

/** Timestamps (epoch ms) of one finished job, as its own store recorded them. */
export interface JobTimes {
  enqueuedAt: number;
  startedAt: number;
  finishedAt: number;
  /** Times the job was delivered (1 unless a worker lost it). */
  deliveries: number;
}

export interface Space {
  readonly prefix: string;
  /** Send `n` no-op jobs (args `[i]`) in `mode`. */
  enqueue(mode: EnqueueMode, n: number): Promise<void>;
  /** Send one no-op job (the latency producer does not wait for one before the next). */
  send(i: number): Promise<unknown>;
  /** Jobs waiting to start. */
  waiting(): Promise<number>;
  /** How to start a worker process on this space. */
  workerCommand(concurrency: number): { script: string; args: string[] };
  /** Timestamps of up to `n` completed jobs. */
  completed(n: number): Promise<JobTimes[]>;
  /** Close this side's connections (the driver deletes the keys). */
  close(): Promise<void>;
}

export interface Side {
  readonly name: SideName;
  /** Library and version, for the results. */
  readonly label: string;
  /** A fresh space whose prefix contains `token`; connected before it returns. */
  open(token: string): Promise<Space>;
}

/** What a worker process reported when it was stopped. */
export interface WorkerExit {
  done: number;
  cpuUs: number;
  elapsedMs: number;
}

const STOP_TIMEOUT_MS = 15_000;

/** A bench worker process started with `--report`. */
export class WorkerProcess {
  readonly #child: ChildProcess;
  /** After the exit and the end of its output, so the last line has been read. */
  readonly #closed: Promise<unknown>;
  readonly ready: Promise<void>;
  #done = 0;
  #exit: Extract<ProgressLine, { bench: 'exit' }> | undefined;
  #onProgress: (() => void) | undefined;

  constructor(command: { script: string; args: string[] }, nodeArgs: readonly string[]) {
    this.#child = spawn(process.execPath, [...nodeArgs, command.script, ...command.args, '--report'], { stdio: ['ignore', 'pipe', 2] });
    this.#closed = once(this.#child, 'close');
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    createInterface({ input: this.#child.stdout! }).on('line', (text) => {
      const line = parseProgressLine(text);
      if (!line) {
        process.stderr.write(`${text}\n`); // the worker's own logs
        return;
      }
      if (line.bench === 'ready') markReady();
      else if (line.bench === 'progress') this.#done = line.done;
      else this.#exit = line;
      this.#onProgress?.();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Jobs done, as of the last progress line. */
  get done(): number {
    return this.#done;
  }

  /** Resolve once `n` jobs are done (true), or at `deadline` (false); throw if the process dies. */
  async waitDone(n: number, deadline: number): Promise<boolean> {
    for (;;) {
      if (this.#done >= n) return true;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new Error(`worker process ${this.#child.pid} exited early (code ${this.#child.exitCode}, signal ${this.#child.signalCode})`);
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#onProgress = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#onProgress = undefined;
    }
  }

  /** SIGTERM, wait for the exit, answer what the process reported. */
  async stop(): Promise<WorkerExit> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await this.#closed;
    } finally {
      clearTimeout(timer);
    }
    const exit = this.#exit;
    if (!exit) throw new Error(`worker process ${child.pid} exited without reporting (code ${child.exitCode}, signal ${child.signalCode})`);
    return { done: exit.done, cpuUs: exit.cpuUserUs + exit.cpuSystemUs, elapsedMs: exit.elapsedMs };
  }
}
