/**
 * `AsyncResult`: the tracking number of a job. It holds only an id and the store; every call
 * reads the store, so any process can track any job.
 */
import { TaskFailedError, TaskRevokedError, TimeoutError, type ErrorInfo } from './errors.js';
import { toMs, type Duration } from './duration.js';
import type { JobState } from './states.js';
import type { JobRecord, Store } from './store/store.js';

/** The last progress a job reported with `ctx.progress`. */
export interface TaskProgress {
  /** How much was done, from 0 to 1. */
  fraction: number;
  /** The info passed with it (parsed JSON), or null. */
  info: unknown;
  /** When it was reported (the store's clock). */
  at: Date;
}

/** What `AsyncResult.info()` tells about a job. */
export interface TaskInfo<R = unknown> {
  id: string;
  /** False for an id the store does not know (never enqueued, or its result expired). */
  known: boolean;
  state: JobState;
  task: string | null;
  queue: string | null;
  args: unknown[] | null;
  /** The result, once SUCCESS. */
  result: R | null;
  /** The last error (of a failed attempt, or why the job was revoked). */
  error: ErrorInfo | null;
  /** The attempt running or last run (1-based); retries start new attempts. */
  attempts: number;
  /** Deliveries of the current attempt (more than 1 after a worker was lost). */
  deliveries: number;
  /** The fencing token of the latest delivery; it counts every delivery of the job. */
  fencingToken: number;
  priority: number;
  /** The worker running or that last ran the job. */
  worker: string | null;
  enqueuedAt: Date | null;
  /** When the job may start (its eta, or the time of its next retry). */
  runAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** finishedAt - startedAt of the last attempt, in ms. */
  runtimeMs: number | null;
  expiresAt: Date | null;
  /**
   * The last `ctx.progress` report of the running (or last) delivery, or null when it reported
   * none. Kept once the job ends; a new delivery starts again from null.
   */
  progress: TaskProgress | null;
}

/** Options of {@link AsyncResult.get}. */
export interface GetOptions {
  /** Give up with a TimeoutError after this long. @default wait forever */
  timeout?: Duration;
  /** Longest pause between two reads of the store when it cannot wake us. @default 250 */
  pollInterval?: Duration;
}

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

function progressOf(job: JobRecord): TaskProgress | null {
  const p = job.progress;
  if (!p) return null;
  return { fraction: p.fraction, info: p.infoJson === null ? null : JSON.parse(p.infoJson), at: new Date(p.at) };
}

function toInfo<R>(id: string, job: JobRecord | null): TaskInfo<R> {
  if (!job) {
    return {
      id, known: false, state: 'PENDING', task: null, queue: null, args: null, result: null, error: null, attempts: 0,
      deliveries: 0, fencingToken: 0, priority: 0, worker: null, enqueuedAt: null, runAt: null, startedAt: null,
      finishedAt: null, runtimeMs: null, expiresAt: null, progress: null,
    };
  }
  return {
    id, known: true, state: job.state, task: job.task, queue: job.queue, args: JSON.parse(job.argsJson) as unknown[],
    result: job.resultJson === null ? null : (JSON.parse(job.resultJson) as R), error: job.error,
    attempts: job.attempt, deliveries: job.deliveries, fencingToken: job.token, priority: job.priority, worker: job.worker,
    enqueuedAt: date(job.enqueuedAt), runAt: date(job.runAt), startedAt: date(job.startedAt), finishedAt: date(job.finishedAt),
    runtimeMs: job.finishedAt !== null && job.startedAt !== null ? job.finishedAt - job.startedAt : null,
    expiresAt: date(job.expiresAt), progress: progressOf(job),
  };
}

/** The tracking number of one job; `R` is the task's result type. */
export class AsyncResult<R = unknown> {
  readonly #store: () => Store;

  /**
   * True when the send that made this result created nothing: a job with the same id or
   * idempotency key was already there, and this is its result (false from `app.result(id)`).
   */
  readonly duplicate: boolean;

  /** @internal Build one with `task.delay`, `task.applyAsync` or `app.result(id)`. */
  constructor(readonly id: string, store: () => Store, duplicate = false) {
    this.#store = store;
    this.duplicate = duplicate;
  }

  /** The job's state; PENDING also for an unknown id, as in Celery (`info().known` tells them apart). */
  async state(): Promise<JobState> {
    return (await this.#store().jobGet(this.id))?.state ?? 'PENDING';
  }

  /** Everything known about the job: state, attempts, timings, worker, result, error, progress. */
  async info(): Promise<TaskInfo<R>> {
    return toInfo<R>(this.id, await this.#store().jobGet(this.id));
  }

  /**
   * Wait for the job to finish and return its result.
   * @throws TaskFailedError with the remote error's type, message and stack when it FAILED.
   * @throws TaskRevokedError when it was revoked. @throws TimeoutError past `timeout`.
   * @example const sent = await sendWelcome.delay('a@b.c', 'ann').then((r) => r.get({ timeout: '30s' }));
   */
  async get(options: GetOptions = {}): Promise<R> {
    const store = this.#store();
    const deadline = options.timeout === undefined ? Infinity : Date.now() + toMs(options.timeout, 'get({ timeout })');
    const maxPause = options.pollInterval === undefined ? 250 : toMs(options.pollInterval, 'get({ pollInterval })');
    let pause = 5;
    for (;;) {
      const job = await store.jobGet(this.id);
      if (job?.state === 'SUCCESS') return (job.resultJson === null ? null : JSON.parse(job.resultJson)) as R;
      if (job?.state === 'FAILURE') throw new TaskFailedError(this.id, job.error ?? { type: 'Error', message: 'unknown error' });
      if (job?.state === 'REVOKED') throw new TaskRevokedError(this.id, job.error?.message);
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`task ${this.id} is still ${job?.state ?? 'PENDING (unknown id)'} after waiting ${toMs(options.timeout!, 'timeout')} ms`);
      // A store that sees other processes' writes wakes us early; the pause only bounds the wait.
      await store.waitForChange({ timeoutMs: Math.min(pause, left) });
      pause = Math.min(maxPause, pause * 2);
    }
  }

  /** Serializes as `{ id }`, so a result can go straight into a JSON response. */
  toJSON(): { id: string } {
    return { id: this.id };
  }
}
