/**
 * What a bench worker process started with `--report` tells the Redis driver, as JSON lines on
 * stdout (other stdout lines, such as the worker's own logs, are passed through to stderr):
 *
 *   {"bench":"ready"}                                  once, before the worker is created
 *   {"bench":"progress","done":1234}                   every 50 ms while `done` changes
 *   {"bench":"exit","done":50000,"cpuUserUs":…,…}      on SIGTERM/SIGINT, before shutting down
 *
 * The driver learns that every job is done from these lines, not by polling Redis, so the
 * `INFO commandstats` delta around a run counts the worker's commands only. CPU is this process's
 * `process.cpuUsage()` from just before the worker (and its Redis connections) is created to
 * the signal: module loading is left out, connecting and script loading are in, for both sides.
 */

/** One line of the protocol. */
export type ProgressLine =
  | { bench: 'ready' }
  | { bench: 'progress'; done: number }
  | { bench: 'exit'; done: number; cpuUserUs: number; cpuSystemUs: number; elapsedMs: number };

const PROGRESS_MS = 50;

/** The worker side: start before creating the worker; `finish()` on the stop signal. */
export class ProgressReporter {
  readonly #cpu0 = process.cpuUsage();
  readonly #t0 = performance.now();
  readonly #timer: NodeJS.Timeout;
  readonly #done: () => number;
  #last = -1;
  #finished = false;

  constructor(done: () => number) {
    this.#done = done;
    write({ bench: 'ready' });
    this.#timer = setInterval(() => {
      const n = done();
      if (n !== this.#last) write({ bench: 'progress', done: (this.#last = n) });
    }, PROGRESS_MS);
    this.#timer.unref();
  }

  /** Report the CPU used so far and stop reporting progress; later calls do nothing. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearInterval(this.#timer);
    const cpu = process.cpuUsage(this.#cpu0);
    write({ bench: 'exit', done: this.#done(), cpuUserUs: cpu.user, cpuSystemUs: cpu.system, elapsedMs: performance.now() - this.#t0 });
  }
}

function write(line: ProgressLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The driver side: the protocol line in `text`, or undefined for any other output. */
export function parseProgressLine(text: string): ProgressLine | undefined {
  if (!text.startsWith('{"bench":')) return undefined;
  try {
    return JSON.parse(text) as ProgressLine;
  } catch {
    return undefined;
  }
}
