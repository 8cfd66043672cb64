/**
 * Blocked-event-loop reports for an inline pool. Leases no longer depend on the event loop (they
 * are renewed from the lease thread), but a blocked loop still stalls every other job of the
 * worker, its settlements and its logs, so the worker says when it happened, for how long and,
 * where it can tell, by which job:
 * - a handler's synchronous part (a sync handler, or an async one before its first `await`) is
 *   timed where it is called: that block is the job's own;
 * - any other block (CPU work after an `await`) is seen by a timer that fired late; it is put on
 *   the job running then, or on "one of" the jobs running when there are several.
 */

/** One block of the event loop. */
export interface LoopBlock {
  ms: number;
  /** The job that blocked it, when known for sure. */
  job?: { id: string; task: string };
  /** Jobs that were running when the cause is not known for sure. */
  suspects?: { id: string; task: string }[];
}

const TICK_MS = 100;

export class LoopMonitor {
  readonly #thresholdMs: number;
  readonly #report: (block: LoopBlock) => void;
  readonly #running: () => { id: string; task: string }[];
  #timer: NodeJS.Timeout | undefined;
  #lastTick = 0;
  /** When the last block timed where it happened ended: the timer then skips that gap. */
  #attributedUntil = 0;

  /**
   * @param thresholdMs shortest block reported.
   * @param running the jobs the worker runs now (asked for only when a block is found).
   */
  constructor(thresholdMs: number, running: () => { id: string; task: string }[], report: (block: LoopBlock) => void) {
    this.#thresholdMs = thresholdMs;
    this.#running = running;
    this.#report = report;
  }

  start(): void {
    this.#lastTick = performance.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** A handler's synchronous part ran from `startedAt` to now (performance.now()). */
  timed(job: { id: string; task: string }, startedAt: number): void {
    const now = performance.now();
    const ms = now - startedAt;
    if (ms < this.#thresholdMs) return;
    this.#attributedUntil = now;
    this.#report({ ms, job });
  }

  #tick(): void {
    const now = performance.now();
    const gap = now - this.#lastTick - TICK_MS;
    const since = this.#lastTick;
    this.#lastTick = now;
    if (gap < this.#thresholdMs || this.#attributedUntil > since) return;
    const running = this.#running();
    if (running.length === 1) this.#report({ ms: gap, job: running[0]! });
    else this.#report({ ms: gap, suspects: running });
  }
}

/** The log record and metric label of a block: what blocked the loop, for how long, and what it cost. */
export function describeBlock(block: LoopBlock, leasesRenewedFrom: 'thread' | 'event loop'): { obj: object; msg: string; task: string } {
  const took = `${(block.ms / 1000).toFixed(3)}s`;
  const by = block.job ? `by ${block.job.task}[${block.job.id}]`
    : block.suspects?.length ? `while ${block.suspects.map((j) => `${j.task}[${j.id}]`).join(', ')} ran (one of them computed synchronously)` : 'outside any job';
  const leases = leasesRenewedFrom === 'thread' ? 'leases were renewed from the lease thread meanwhile, but' : 'leases could not be renewed meanwhile (the store was given as an object: no lease thread), and';
  return {
    obj: { blockedMs: Math.round(block.ms), job: block.job?.id },
    msg: `event loop blocked for ${took} ${by}; ${leases} this worker ran nothing else. Run CPU-bound tasks with --pool threads or processes`,
    task: block.job?.task ?? (block.suspects?.length === 1 ? block.suspects[0]!.task : ''),
  };
}
