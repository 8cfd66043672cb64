/**
 * Task definitions: a named handler with options, and the calls that send it (`delay`,
 * `applyAsync`) or run it inline (`run`, for users' unit tests).
 */
import { Signature, type ApplyOptions, type CanvasSender, type JobDefaults } from './canvas.js';
import { createContext, localSteps, noTransaction, type TaskContext } from './context.js';
import { localProgress } from './progress.js';
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError } from './errors.js';
import type { AsyncResult } from './result.js';
import { resolveRetry, type ResolvedRetry, type RetryPolicy } from './retry.js';

/** A task handler: `ctx` first, then the task's own JSON arguments. */
export type TaskHandler<A extends unknown[], R> = (ctx: TaskContext, ...args: A) => Promise<R> | R;

/** A check of a task's args: any object with zod's `safeParse` (zod 3 or 4, valibot's zod adapter, ...). */
export interface ArgsSchema {
  safeParse(value: unknown): { success: boolean; error?: { issues: readonly { path: readonly PropertyKey[]; message: string; code?: string }[] } };
}

/** What a failed job tells an `onFailure` hook. */
export interface FailureInfo {
  id: string;
  name: string;
  args: unknown[];
  attempt: number;
}

/** Options of `app.task`. */
export interface TaskOptions {
  /** The task's name, unique in the app; workers look handlers up by it. @example 'email.send_welcome' */
  name: string;
  /** Queue its jobs go to. @default the app's `queue`, else 'default' */
  queue?: string;
  /** Higher runs first. @default 0 */
  priority?: number;
  /**
   * Automatic retries. Without it, a thrown error fails the job at once (`ctx.retry()` still
   * retries, up to 3 times by default).
   * @example { on: [NetworkError], max: 5, backoff: { base: '2s', max: '10m', jitter: true } }
   */
  retry?: RetryPolicy;
  /**
   * Stop the attempt after this long and fail it with TimeLimitExceededError (retry rules
   * apply). In the `threads` and `processes` pools the handler is stopped whatever it does: its
   * thread or process is terminated and replaced. In `inline` its `ctx.signal` is aborted and
   * the attempt fails, but code that ignores the signal runs on (nothing can stop it there).
   */
  timeLimit?: Duration;
  /**
   * Abort `ctx.signal` with SoftTimeLimitExceededError after this long, so the handler can clean
   * up and stop before `timeLimit` stops it (Celery's `soft_time_limit`). Shorter than `timeLimit`.
   */
  softTimeLimit?: Duration;
  /** Lost deliveries of one attempt (its worker died) before the job fails with WorkerLostError. @default the app's, else 5 */
  maxDeliveries?: number;
  /** Keep the state but not the result. @default false */
  ignoreResult?: boolean;
  /** How long a result is kept. @default the app's, else '24h' */
  resultTtl?: Duration;
  /** Revoke each job that has not started this long after it was sent. */
  expires?: Duration;
  /** Called in the worker once a job of this task has failed for good. Errors it throws are logged. */
  onFailure?: (error: unknown, job: FailureInfo) => void | Promise<void>;
  /**
   * Dedup every call by a key derived from the task name and a SHA-256 of its canonical JSON
   * args: a call while an identical one waits or runs (and `ttl` after it ends) answers that job.
   * @default false
   * @example { idempotent: { ttl: '1h' } }
   */
  idempotent?: boolean | { ttl?: Duration };
  /** Sent once when a job of this task succeeds, with its result as first argument (Celery's `link`). */
  link?: Signature | readonly Signature[];
  /** Sent once when a job of this task fails for good or is revoked (Celery's `link_error`). */
  linkError?: Signature | readonly Signature[];
  /** Sent once when a job of this task ends, either way. */
  finally?: Signature | readonly Signature[];
  /**
   * Checks the args array at every send (`delay`, `applyAsync`, `app.send`, the HTTP API): a
   * send whose args fail is refused with the path and the reason, and nothing is enqueued.
   * @example { argsSchema: z.tuple([z.string().email(), z.string()]) }
   */
  argsSchema?: ArgsSchema;
}

/** A task's options with defaults applied and durations resolved. */
export interface ResolvedTaskOptions {
  name: string;
  retry: ResolvedRetry;
  /** Whether errors retry automatically (the task declared `retry`). */
  autoRetry: boolean;
  timeLimitMs: number | undefined;
  softTimeLimitMs: number | undefined;
  ignoreResult: boolean;
  resultTtlMs: number;
  onFailure: TaskOptions['onFailure'];
  argsSchema: ArgsSchema | undefined;
  job: JobDefaults;
}

/** What a task needs from its app to send jobs. */
export interface TaskSender {
  /** @internal */
  sendJob<R>(name: string, args: readonly unknown[], defaults: JobDefaults, options: ApplyOptions): Promise<AsyncResult<R>>;
}

const list = (s: Signature | readonly Signature[] | undefined): readonly Signature[] | undefined => (s === undefined ? undefined : Array.isArray(s) ? s : [s as Signature]);

/** App-level defaults a task falls back on. */
export interface TaskDefaults {
  queue: string;
  maxDeliveries: number;
  resultTtlMs: number;
  maxPayloadBytes: number;
}

function timeLimits(options: TaskOptions, field: string): Pick<ResolvedTaskOptions, 'timeLimitMs' | 'softTimeLimitMs'> {
  const timeLimitMs = options.timeLimit === undefined ? undefined : toMs(options.timeLimit, `${field}: timeLimit`);
  const softTimeLimitMs = options.softTimeLimit === undefined ? undefined : toMs(options.softTimeLimit, `${field}: softTimeLimit`);
  if (softTimeLimitMs !== undefined && timeLimitMs !== undefined && softTimeLimitMs >= timeLimitMs) {
    throw new InvalidArgumentError(`${field}: softTimeLimit (${softTimeLimitMs} ms) must be shorter than timeLimit (${timeLimitMs} ms), or the soft limit never fires`);
  }
  return { timeLimitMs, softTimeLimitMs };
}

export function resolveTaskOptions(options: TaskOptions, defaults: TaskDefaults): ResolvedTaskOptions {
  const field = `task "${options.name}"`;
  const maxDeliveries = options.maxDeliveries ?? defaults.maxDeliveries;
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) {
    throw new InvalidArgumentError(`${field}: maxDeliveries must be an integer >= 1, got ${String(maxDeliveries)}`);
  }
  return {
    name: options.name,
    retry: resolveRetry(options.retry, `${field}: retry`),
    autoRetry: options.retry !== undefined,
    ...timeLimits(options, field),
    ignoreResult: options.ignoreResult ?? false,
    resultTtlMs: options.resultTtl === undefined ? defaults.resultTtlMs : toMs(options.resultTtl, `${field}: resultTtl`),
    onFailure: options.onFailure,
    argsSchema: options.argsSchema,
    job: {
      queue: options.queue ?? defaults.queue,
      priority: options.priority ?? 0,
      maxDeliveries,
      expiresMs: options.expires === undefined ? undefined : toMs(options.expires, `${field}: expires`),
      maxPayloadBytes: defaults.maxPayloadBytes,
      idempotent: !options.idempotent ? undefined
        : { ttlMs: options.idempotent === true || options.idempotent.ttl === undefined ? null : toMs(options.idempotent.ttl, `${field}: idempotent.ttl`) },
      callbacks: options.link || options.linkError || options.finally
        ? { link: list(options.link), linkError: list(options.linkError), finally: list(options.finally) } : undefined,
    },
  };
}

/** A registered task. `A` are its arguments (after `ctx`), `R` its result. */
export class Task<A extends unknown[] = unknown[], R = unknown> {
  readonly name: string;
  /** @internal */
  readonly options: ResolvedTaskOptions;
  /** @internal */
  readonly handler: TaskHandler<A, R>;
  readonly #sender: TaskSender & CanvasSender;

  /** @internal Create tasks with `app.task`. */
  constructor(options: ResolvedTaskOptions, handler: TaskHandler<A, R>, sender: TaskSender & CanvasSender) {
    this.name = options.name;
    this.options = options;
    this.handler = handler;
    this.#sender = sender;
  }

  /**
   * Send the task to a worker with these args.
   * @example const r = await sendWelcome.delay('ann@example.com', 'ann'); // r.id
   */
  delay(...args: A): Promise<AsyncResult<Awaited<R>>> {
    return this.#sender.sendJob<Awaited<R>>(this.name, args, this.options.job, {});
  }

  /**
   * Send the task with per-call options.
   * @example await report.applyAsync([month], { countdown: '10m', queue: 'reports', priority: 5 })
   */
  applyAsync(args: A, options: ApplyOptions = {}): Promise<AsyncResult<Awaited<R>>> {
    return this.#sender.sendJob<Awaited<R>>(this.name, args, this.options.job, options);
  }

  /**
   * A signature: this task with (leading) args, to send later, as a callback, or in a workflow.
   * As a `link` or chain step it gets its parent's result first, then these args.
   * @example app.task({ name: 'charge', link: sendReceipt.s() }, ...)
   */
  s(...args: unknown[]): Signature<Awaited<R>> {
    return new Signature<Awaited<R>>(this.name, args, {}, false, this.options.job, this.#sender);
  }

  /** An immutable signature: as a `link` or chain step it gets only these args, not its parent's result. */
  si(...args: unknown[]): Signature<Awaited<R>> {
    return new Signature<Awaited<R>>(this.name, args, {}, true, this.options.job, this.#sender);
  }

  /**
   * Run the handler here and now, without the store (for unit tests). `ctx.signal` never aborts;
   * a `ctx.retry()` thrown by the handler propagates; `ctx.progress` checks its arguments and
   * records nothing; `ctx.transaction` is refused (there is no job to complete with it).
   */
  async run(...args: A): Promise<Awaited<R>> {
    const ctx = createContext({
      id: `local-${this.name}`, name: this.name, queue: this.options.job.queue, attempt: 1, deliveries: 1, fencingToken: 0, parent: null,
    }, new AbortController(), { steps: localSteps(), progress: localProgress, transaction: noTransaction });
    return await this.handler(ctx, ...args);
  }
}
