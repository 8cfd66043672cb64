/** The `ctx` every task handler gets as its first argument. */
import { toMs, type Duration } from './duration.js';
import { Retry } from './errors.js';

/** Options of `ctx.retry`. */
export interface RetryOptions {
  /** Wait this long before the next attempt. @default the task's backoff */
  countdown?: Duration;
  /** The error that made this attempt fail; kept as the job's error, and its final one if retries run out. */
  cause?: unknown;
}

/** What a running task knows about its job, and what it can ask of the worker. */
export interface TaskContext {
  /** The job id (the AsyncResult's id). */
  readonly id: string;
  /** The task name. */
  readonly name: string;
  readonly queue: string;
  /** 1-based attempt number; retries start new attempts. */
  readonly attempt: number;
  /** Deliveries of this attempt (more than 1 after a worker running it was lost). */
  readonly deliveries: number;
  /** This delivery's fencing token: grows with every delivery; stale tokens' writes are refused. */
  readonly fencingToken: number;
  /**
   * Aborted when the task must stop: its time limit passed, it was revoked with `terminate`,
   * its lease was lost, or the worker is shutting down past its grace period. Pass it to fetch,
   * timers and clients that accept one.
   */
  readonly signal: AbortSignal;
  /**
   * Build the error to throw to retry this job.
   * @example catch (err) { throw ctx.retry({ countdown: '30s', cause: err }) }
   */
  retry(options?: RetryOptions): Retry;
}

/** Fields a context is built from. */
export type ContextFields = Omit<TaskContext, 'retry' | 'signal'>;

/**
 * A task's context. A class, not an object literal, and `signal` read from the controller only
 * when the handler asks for it: building an AbortSignal costs ~3.6 µs and garbage per job, and
 * most handlers never look.
 */
class Context implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly deliveries: number;
  readonly fencingToken: number;
  readonly #controller: AbortController;

  constructor(fields: ContextFields, controller: AbortController) {
    this.id = fields.id;
    this.name = fields.name;
    this.queue = fields.queue;
    this.attempt = fields.attempt;
    this.deliveries = fields.deliveries;
    this.fencingToken = fields.fencingToken;
    this.#controller = controller;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  // No `this`: a handler may destructure it (`const { retry } = ctx`).
  retry(options: RetryOptions = {}): Retry {
    return new Retry(options.countdown === undefined ? undefined : toMs(options.countdown, 'ctx.retry({ countdown })'), options.cause);
  }
}

/** Make a task context; `controller` aborts its `signal`. */
export function createContext(fields: ContextFields, controller: AbortController): TaskContext {
  return new Context(fields, controller);
}
