/** The `ctx` every task handler gets as its first argument. */
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError, LeaseLostError, Retry, type ErrorInfo } from './errors.js';
import { toJson } from './message.js';
import type { ProgressReporter } from './progress.js';
import { checkName } from './store/checks.js';
import type { JobState } from './states.js';
import type { LossReason, Store, TransactionClient } from './store/store.js';

/** What a callback's handler knows of the job that fired it. */
export interface ParentJob {
  id: string;
  task: string;
  /** SUCCESS, FAILURE or REVOKED. */
  state: JobState;
  /** The parent's result, when it succeeded. */
  result: unknown;
  /** Why it failed or was revoked. */
  error: ErrorInfo | null;
}

/** Where `ctx.step` keeps results: the store, fenced by the delivery's token (a Map in `task.run`). */
export interface StepRecorder {
  /** The recorded JSON of a step, or null. @throws LeaseLostError when the delivery lost its lease. */
  get(name: string): Promise<string | null>;
  /** Record a step; answers the JSON recorded (the first record wins). @throws LeaseLostError */
  put(name: string, json: string): Promise<string>;
}

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
  /** Set on a job sent by a callback (`link`, `linkError`, `finally`): the job that fired it. */
  readonly parent: ParentJob | null;
  /**
   * Run `fn` once for this job, whatever the retries and redeliveries: its (JSON) result is
   * recorded in the store, and later deliveries get the recorded value without running `fn`.
   * An effect inside `fn` is at-least-once until its result is recorded: if the worker dies
   * between the effect and the record, `fn` runs again, so pass `ctx.stepKey(name)` to APIs that
   * accept an idempotency key. Names must be unique within a job.
   * @throws LeaseLostError when this delivery's lease is gone (another delivery replaced it).
   * @example const charge = await ctx.step('charge', () => stripe.charges.create({ amount }, { idempotencyKey: ctx.stepKey('charge') }))
   */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
  /** A key for step `name` that is the same on every delivery and retry of this job: `<job id>:<name>`. */
  stepKey(name: string): string;
  /**
   * Build the error to throw to retry this job.
   * @example catch (err) { throw ctx.retry({ countdown: '30s', cause: err }) }
   */
  retry(options?: RetryOptions): Retry;
  /**
   * Report how far the job has come, for `AsyncResult.info().progress` and the bar of
   * `conveyor call --wait`. Report as often as you like: the store is written at most every
   * 250 ms, and a report held back meanwhile is replaced by the next one, written when the
   * interval ends or, at the latest, before the job's outcome. A new delivery starts with no
   * progress. The returned promise need not be awaited: a lost lease also aborts `ctx.signal`.
   * @param fraction how much is done, from 0 to 1.
   * @param info any JSON to show beside it (a step name, counts); replaces the last report's.
   * @throws InvalidArgumentError (synchronously) when `fraction` is not a finite number from 0
   * to 1 or `info` is not JSON.
   * @throws LeaseLostError (the promise rejects) when this delivery's lease is gone.
   * @example
   * for (const [i, row] of rows.entries()) {
   *   await importRow(row);
   *   void ctx.progress((i + 1) / rows.length, { imported: i + 1, of: rows.length });
   * }
   */
  progress(fraction: number, info?: unknown): Promise<void>;
  /**
   * PostgreSQL store only: run `fn` in a transaction on the store's database that also records
   * this job's success, fenced by this delivery's token. `fn`'s writes and the job's SUCCESS
   * commit together or not at all: a worker killed at any instant leaves both or neither, and a
   * delivery that lost its lease (another worker took the job) has its writes rolled back. The
   * strongest exactly-once pattern for effects in your own database.
   *
   * `fn`'s value is the job's result; make it the handler's last step (`return ctx.transaction(...)`):
   * once it resolves the job is SUCCESS, and what the handler does or throws afterwards changes
   * nothing. Once per delivery. `tx` is a node-postgres client inside BEGIN, on the database of
   * the store's URL (your tables live there too); do not COMMIT or ROLLBACK it. An error `fn`
   * throws rolls back and fails the attempt as any handler error does (retried by your policy).
   * @throws LeaseLostError when this delivery's lease is gone (its writes are rolled back).
   * @throws InvalidArgumentError when the store is not PostgreSQL, or when called twice.
   * @example
   * return ctx.transaction(async (tx) => {
   *   await tx.query('UPDATE orders SET invoiced = true WHERE id = $1', [orderId]);
   *   return { invoiced: orderId };
   * });
   */
  transaction<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T>;
}

/** Fields a context is built from. */
export type ContextFields = Omit<TaskContext, 'retry' | 'signal' | 'step' | 'stepKey' | 'progress' | 'transaction'>;

/** Where a context writes: steps and progress (the store in a worker, memory in `task.run`). */
export interface ContextSinks {
  steps: StepRecorder;
  /** The reporter, asked for on the first report only: most jobs never report. */
  progress: () => ProgressReporter;
  /** Runs `ctx.transaction`'s `fn` and completes the job with it (the store in a worker; a refusal in `task.run`). */
  transaction: <T>(fn: (tx: TransactionClient) => Promise<T>) => Promise<T>;
}

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
  readonly parent: ParentJob | null;
  readonly #controller: AbortController;
  readonly #steps: StepRecorder;
  readonly #progress: () => ProgressReporter;
  readonly #transaction: ContextSinks['transaction'];
  /** Step names used by this delivery: a name used twice would silently answer the first. */
  #stepNames: Set<string> | undefined;
  #transacted = false;

  constructor(fields: ContextFields, controller: AbortController, sinks: ContextSinks) {
    this.id = fields.id;
    this.name = fields.name;
    this.queue = fields.queue;
    this.attempt = fields.attempt;
    this.deliveries = fields.deliveries;
    this.fencingToken = fields.fencingToken;
    this.parent = fields.parent;
    this.#controller = controller;
    this.#steps = sinks.steps;
    this.#progress = sinks.progress;
    this.#transaction = sinks.transaction;
  }

  transaction<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new InvalidArgumentError('ctx.transaction(fn): fn must be a function (tx) => result'));
    if (this.#transacted) return Promise.reject(new InvalidArgumentError(`ctx.transaction used twice in job ${this.id}: the first one completes the job, so put all its writes in one`));
    this.#transacted = true;
    return this.#transaction(fn);
  }

  async step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    checkName(name, 'ctx.step(name)');
    if (typeof fn !== 'function') throw new InvalidArgumentError(`ctx.step("${name}", fn): fn must be a function`);
    this.#stepNames ??= new Set();
    if (this.#stepNames.has(name)) throw new InvalidArgumentError(`ctx.step("${name}") used twice in job ${this.id}: step names must be unique within a job (add an index: "${name}-2")`);
    this.#stepNames.add(name);
    const recorded = await this.#steps.get(name);
    if (recorded !== null) return JSON.parse(recorded) as T;
    const value = await fn();
    const json = toJson(value === undefined ? null : value, `step "${name}" result`);
    // Answer what is recorded, so the first run and every replay see the same value.
    return JSON.parse(await this.#steps.put(name, json)) as T;
  }

  stepKey(name: string): string {
    return `${this.id}:${name}`;
  }

  progress(fraction: number, info?: unknown): Promise<void> {
    if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      const got = typeof fraction === 'string' ? JSON.stringify(fraction) : String(fraction);
      throw new InvalidArgumentError(`ctx.progress(fraction): fraction must be a finite number from 0 to 1 (0.25 is a quarter done), got ${got}`);
    }
    const infoJson = info === undefined || info === null ? null : toJson(info, 'progress info');
    return this.#progress().report(fraction, infoJson);
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
export function createContext(fields: ContextFields, controller: AbortController, sinks: ContextSinks): TaskContext {
  return new Context(fields, controller, sinks);
}

/** Steps kept in memory, for `task.run` (no store, no fencing). */
export function localSteps(): StepRecorder {
  const recorded = new Map<string, string>();
  return {
    get: async (name) => recorded.get(name) ?? null,
    put: async (name, json) => {
      if (!recorded.has(name)) recorded.set(name, json);
      return recorded.get(name)!;
    },
  };
}

/** `ctx.transaction` outside a worker (`task.run`): refused, saying what to do. */
export function noTransaction(): Promise<never> {
  return Promise.reject(new InvalidArgumentError('ctx.transaction completes a delivered job, so it runs in a worker only; task.run has no job to complete (test the handler through a worker on a PostgreSQL store, or move the writes into a function you call directly)'));
}

/** Steps in the store, fenced by one delivery's token; a loss calls `lost` and throws LeaseLostError. */
export function storeSteps(store: Pick<Store, 'jobStepGet' | 'jobStepPut'>, id: string, token: number, lost: (reason: LossReason, terminate: boolean) => void): StepRecorder {
  const check = <T extends { ok: boolean }>(outcome: T | { ok: false; reason: LossReason; terminate: boolean }): T => {
    if (outcome.ok) return outcome as T;
    const { reason, terminate } = outcome as { reason: LossReason; terminate: boolean };
    lost(reason, terminate);
    throw new LeaseLostError(id, token, reason);
  };
  return {
    get: async (name) => check(await store.jobStepGet({ id, token, name })).resultJson as string | null,
    put: async (name, json) => check(await store.jobStepPut({ id, token, name, resultJson: json })).resultJson as string,
  };
}
