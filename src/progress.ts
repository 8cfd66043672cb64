/**
 * Progress reports of a running job (`ctx.progress`): checked by the context, throttled here,
 * written to the store fenced by the delivery's token.
 *
 * Terminology:
 * - report   one `ctx.progress(fraction, info)` call.
 * - write    one `store.jobProgress` call: at most one per interval per delivery, so a handler
 *            may report on every item of a tight loop without one store round trip each.
 * - pending  the latest report held back by the interval; written when the interval ends, or
 *            when the job ends (`close`). Older held reports are dropped: only the latest matters.
 */
import { LeaseLostError } from './errors.js';
import type { LossReason, Store } from './store/store.js';

/** Shortest time between two progress writes of one delivery. */
export const PROGRESS_INTERVAL_MS = 250;

/** One store write of a report. @throws LeaseLostError when the delivery lost its lease. */
export type ProgressWrite = (fraction: number, infoJson: string | null) => Promise<void>;

/** Where `ctx.progress` sends checked reports. */
export interface ProgressReporter {
  /**
   * Report; resolves when written, or at once when the report is held for the next write.
   * A failed write other than a lost lease resolves too: the report is tried again later.
   * @throws LeaseLostError (a rejection) once a write was refused because the lease is gone.
   */
  report(fraction: number, infoJson: string | null): Promise<void>;
  /** The job ended: write the held report, if any, and ignore later reports. Never rejects. */
  close(): Promise<void>;
}

interface Report {
  fraction: number;
  infoJson: string | null;
}

/** A rejection nobody has to catch: a handler may fire `ctx.progress()` without awaiting it. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

class ProgressThrottle implements ProgressReporter {
  readonly #write: ProgressWrite;
  readonly #intervalMs: number;
  readonly #onError: (err: unknown) => void;
  #pending: Report | undefined;
  /** Set while an interval runs since the last write began: reports meanwhile are held. */
  #timer: NodeJS.Timeout | undefined;
  /** The last write: writes go out one after another, so an older report never lands last. */
  #tail: Promise<void> = Promise.resolve();
  /** The refusal of an earlier write: the lease is gone, every later report is refused too. */
  #lost: LeaseLostError | undefined;
  #closed = false;

  constructor(write: ProgressWrite, intervalMs: number, onError: (err: unknown) => void) {
    this.#write = write;
    this.#intervalMs = intervalMs;
    this.#onError = onError;
  }

  report(fraction: number, infoJson: string | null): Promise<void> {
    if (this.#lost) return handled(Promise.reject(this.#lost));
    if (this.#closed) return Promise.resolve();
    const report = { fraction, infoJson };
    if (this.#timer) {
      this.#pending = report;
      return Promise.resolve();
    }
    this.#startInterval();
    // Only a lost lease reaches the handler: a store hiccup is logged and the report retried.
    return handled(this.#send(report).catch((err: unknown) => {
      if (err instanceof LeaseLostError) throw err;
    }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const report = this.#pending;
    this.#pending = undefined;
    if (report && !this.#lost) await this.#send(report).catch(() => {});
    await this.#tail;
  }

  #startInterval(): void {
    this.#timer = setTimeout(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    const report = this.#pending;
    if (!report || this.#closed) return;
    this.#pending = undefined;
    this.#startInterval();
    this.#send(report).catch(() => {}); // #send has recorded what went wrong
  }

  /** Write after the writes before it. A lease loss is kept; another failure keeps the report for the next interval. */
  #send(report: Report): Promise<void> {
    const written = this.#tail.then(() => (this.#lost ? Promise.reject(this.#lost) : this.#write(report.fraction, report.infoJson)));
    this.#tail = written.then(
      () => {},
      (err: unknown) => {
        if (err instanceof LeaseLostError) {
          this.#lost ??= err;
          return;
        }
        this.#onError(err);
        // A store hiccup: try the report again at the next interval, unless a newer one came.
        if (!this.#closed) {
          this.#pending ??= report;
          if (!this.#timer) this.#startInterval();
        }
      },
    );
    return written;
  }
}

/**
 * Throttle a delivery's reports: the first is written at once, later ones at most once per
 * `intervalMs`, the latest winning. `onError` hears of failed writes other than a lost lease
 * (the report is tried again at the next interval).
 */
export function throttledProgress(write: ProgressWrite, options: { intervalMs?: number; onError?: (err: unknown) => void } = {}): ProgressReporter {
  return new ProgressThrottle(write, options.intervalMs ?? PROGRESS_INTERVAL_MS, options.onError ?? (() => {}));
}

const DROPPED: ProgressReporter = { report: () => Promise.resolve(), close: () => Promise.resolve() };

/** Progress of `task.run` (no store), and of a job that already ended: reports are checked by the context, then dropped. */
export function localProgress(): ProgressReporter {
  return DROPPED;
}

/** Writes to the store, fenced by one delivery's token; a loss calls `lost` and throws LeaseLostError. */
export function storeProgress(store: Pick<Store, 'jobProgress'>, id: string, token: number, lost: (reason: LossReason, terminate: boolean) => void): ProgressWrite {
  return async (fraction, infoJson) => {
    const outcome = await store.jobProgress({ id, token, fraction, infoJson });
    if (outcome.ok) return;
    lost(outcome.reason, outcome.terminate);
    throw new LeaseLostError(id, token, outcome.reason);
  };
}
