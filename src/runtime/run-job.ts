/**
 * One delivery of one job: build `ctx`, call the handler under its time limits, turn the outcome
 * into a settlement. The inline pool calls it on the worker's event loop; the thread and process
 * pools call it in a child, with `io` proxied to the supervisor (see child-main.ts).
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import { createContext, storeSteps, type ParentJob } from '../context.js';
import { LeaseLostError, NotRegisteredError, RevokedError, Retry, SoftTimeLimitExceededError, TimeLimitExceededError, type ErrorInfo } from '../errors.js';
import { toJson } from '../message.js';
import { localProgress, storeProgress, throttledProgress, type ProgressReporter } from '../progress.js';
import type { LeaseRef, LossReason, ReservedJob, Settlement, Store, TransactionClient, WriteOutcome } from '../store/store.js';
import type { Task } from '../task.js';
import { failureSettlement } from './outcome.js';

/** Counters a worker keeps of settled jobs. */
export interface SettleCounts {
  succeeded: number;
  failed: number;
  retried: number;
  lost: number;
}

/** What a running job writes besides its outcome: steps and progress, fenced by its token. */
export type JobIo = Pick<Store, 'jobStepGet' | 'jobStepPut' | 'jobProgress'>;

/** A delivery whose handler's transaction (`ctx.transaction`) committed its success: nothing is left to write. */
export interface Committed {
  kind: 'committed';
  id: string;
  token: number;
}

/** How a delivery ended: what to write, or that its transaction wrote it. */
export type Ending = Settlement | Committed;

/** A job running in a worker slot, in whatever pool. */
export interface RunningJob {
  readonly lease: LeaseRef;
  /**
   * Resolves (never rejects) when the handler has ended, with what to write; null when there is
   * nothing to write: its child died with it (the lease lapses and the job is delivered again),
   * or it was terminated because it was revoked.
   */
  readonly settlement: Promise<Ending | null>;
  /** Abort the handler's `ctx.signal`: the worker is shutting down past its grace period. */
  abort(why: 'shutdown'): void;
  /** The store says this delivery's lease is gone. */
  lost(reason: LossReason, terminate: boolean): void;
  /** The store answered the settlement (or the handler's transaction committed it). */
  settled(outcome: WriteOutcome, settlement: Ending, counts: SettleCounts): void;
}

/** How {@link runJob} runs a delivery. */
export interface RunJobOptions {
  /** Where steps and progress go: the store (inline), or the supervisor (in a child). */
  io: JobIo;
  /** Where `ctx.transaction` runs: the app's own store, in the worker or in the child. */
  transactions: Pick<Store, 'jobCompleteInTransaction'>;
  /**
   * Fail the attempt when `timeLimit` passes, whatever the handler does next (inline). false in a
   * child: the supervisor enforces it by terminating the child.
   */
  enforceTimeLimit: boolean;
  /** Told when the handler's synchronous part returned, with performance.now() at its call. */
  syncPartEnded?: (startedAt: number) => void;
}

/** The job a controller's abort reason belongs to (`signal.reason` of a lost lease, a revoke). */
export function abortReason(job: LeaseRef, reason: LossReason, terminate: boolean): Error | undefined {
  if (reason === 'revoked') return terminate ? new RevokedError(job.id) : undefined;
  return new LeaseLostError(job.id, job.token, reason);
}

/** Start one delivery. */
export function runJob(app: Conveyor, job: ReservedJob, logger: Logger, options: RunJobOptions): RunningJob {
  const task = app.tasks.get(job.task);
  const controller = new AbortController();
  const startedAt = performance.now();
  let lossLogged = false;
  let args: unknown[] = [];
  let thrown: unknown;
  const label = `${job.task}[${job.id}]`;

  // The handler's transaction committed the job's success: later news of its lease (a renewal
  // refused because the job is final) is about that, not a loss.
  let committed = false;

  const lost = (reason: LossReason, terminate: boolean): void => {
    if (committed) return;
    const why = abortReason(job, reason, terminate);
    if (why) controller.abort(why);
    if (!lossLogged) logger.warn({ job: job.id, token: job.token, reason }, `Task ${label} lost its lease (${reason}); its outcome will be discarded`);
    lossLogged = true;
  };

  // Made on the first report (most jobs never report); a report after the job ended is dropped.
  let progress: ProgressReporter | undefined;
  let ended = false;
  const reporter = (): ProgressReporter => (progress ??= ended ? localProgress() : throttledProgress(storeProgress(options.io, job.id, job.token, lost), {
    onError: (err) => logger.warn({ err, job: job.id }, `Task ${label} progress report not written; it is tried again shortly`),
  }));

  const transaction = async <T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T> => {
    const answer = await options.transactions.jobCompleteInTransaction({ id: job.id, token: job.token, resultTtlMs: task!.options.resultTtlMs }, async (tx) => {
      const value = await fn(tx);
      return { value, resultJson: resultJsonOf(task!, value) };
    });
    if (!answer.ok) {
      lost(answer.reason, answer.terminate);
      throw new LeaseLostError(job.id, job.token, answer.reason);
    }
    committed = true;
    return answer.value;
  };

  const settlement = (async (): Promise<Ending> => {
    const timers = task ? startTimeLimits(task, controller, options.enforceTimeLimit) : undefined;
    try {
      if (!task) throw new NotRegisteredError(job.task);
      args = JSON.parse(job.argsJson) as unknown[];
      const ctx = createContext({
        id: job.id, name: job.task, queue: job.queue, attempt: job.attempt, deliveries: job.deliveries,
        fencingToken: job.token, parent: parentOf(job),
      }, controller, { steps: storeSteps(options.io, job.id, job.token, lost), progress: reporter, transaction });
      const calledAt = performance.now();
      const work = task.handler(ctx, ...(args as never[]));
      options.syncPartEnded?.(calledAt);
      const result = await (timers ? Promise.race([work, timers.hardLimit]) : work);
      if (committed) return { kind: 'committed', id: job.id, token: job.token };
      const resultJson = resultJsonOf(task, result);
      return { kind: 'complete', id: job.id, token: job.token, resultJson, resultTtlMs: task.options.resultTtlMs };
    } catch (err) {
      if (committed) {
        logger.warn({ err, job: job.id }, `Task ${label} threw after its transaction committed the job's success; it stays SUCCESS (make ctx.transaction the handler's last step)`);
        return { kind: 'committed', id: job.id, token: job.token };
      }
      // onFailure gets what the job fails with: a ctx.retry()'s cause, not the Retry wrapper.
      thrown = err instanceof Retry && err.cause !== undefined ? err.cause : err;
      return failureSettlement(job, task?.options, err);
    } finally {
      timers?.clear();
      // The report held back by the throttle lands before the outcome; later ones are dropped.
      ended = true;
      if (progress) await progress.close();
    }
  })();

  return {
    lease: { id: job.id, token: job.token },
    settlement,
    abort() {
      controller.abort(new Error('worker shutting down; the job was released to another worker'));
    },
    lost,
    settled(outcome, s, counts) {
      const failed = reportSettled(logger, job, outcome, s, counts, (performance.now() - startedAt) / 1000, lossLogged);
      if (failed) void runFailureHook(task, job, args, thrown, logger);
    },
  };
}

/**
 * Log a settled delivery and count it; true when it failed for good (its onFailure hook is due).
 * @param lossLogged the lost lease was logged already: do not log the refusal again.
 */
export function reportSettled(logger: Logger, job: ReservedJob, outcome: WriteOutcome, s: Ending, counts: SettleCounts, seconds: number, lossLogged: boolean): boolean {
  const label = `${job.task}[${job.id}]`;
  const took = seconds.toFixed(3);
  if (!outcome.ok) {
    counts.lost++;
    if (!lossLogged) logger.warn({ job: job.id, token: job.token, reason: outcome.reason }, `Task ${label} outcome refused (${outcome.reason}): another delivery or a revoke replaced it`);
    return false;
  }
  if (s.kind === 'complete' || s.kind === 'committed') {
    counts.succeeded++;
    if (logger.isLevelEnabled('info')) logger.info({ job: job.id }, `Task ${label} succeeded in ${took}s${s.kind === 'committed' ? ', committed with its transaction' : ''}`);
  } else if (s.kind === 'retry') {
    counts.retried++;
    logger.info({ job: job.id, error: s.error.message, delayMs: s.delayMs }, `Task ${label} retry ${job.attempt} in ${(s.delayMs / 1000).toFixed(3)}s: ${s.error.type}: ${s.error.message}`);
  } else if (s.kind === 'fail') {
    counts.failed++;
    logger.error({ job: job.id, error: s.error }, `Task ${label} failed in ${took}s: ${s.error.type}: ${s.error.message}`);
    return true;
  }
  return false;
}

/** What a handler's value is stored as: its JSON (undefined as null, within the payload limit), or null with `ignoreResult`. */
function resultJsonOf(task: Task<never[], unknown>, value: unknown): string | null {
  return task.options.ignoreResult ? null : toJson(value === undefined ? null : value, 'result', task.options.job.maxPayloadBytes);
}

function parentOf(job: ReservedJob): ParentJob | null {
  const p = job.parent;
  if (!p) return null;
  return { id: p.id, task: p.task, state: p.state, result: p.resultJson === null ? null : JSON.parse(p.resultJson), error: p.error };
}

/**
 * The task's time limits: past `softTimeLimit`, abort `ctx.signal`; past `timeLimit`, abort it
 * and, when `enforce`, reject `hardLimit` so the attempt fails whatever the handler does next.
 */
function startTimeLimits(task: Task<never[], unknown>, controller: AbortController, enforce: boolean): { hardLimit: Promise<never>; clear(): void } | undefined {
  const { timeLimitMs, softTimeLimitMs } = task.options;
  if (timeLimitMs === undefined && softTimeLimitMs === undefined) return undefined;
  const timers: NodeJS.Timeout[] = [];
  if (softTimeLimitMs !== undefined) timers.push(setTimeout(() => controller.abort(new SoftTimeLimitExceededError(softTimeLimitMs)), softTimeLimitMs));
  const hardLimit = new Promise<never>((_, reject) => {
    if (timeLimitMs === undefined) return;
    timers.push(setTimeout(() => {
      const err = new TimeLimitExceededError(timeLimitMs);
      controller.abort(err);
      if (enforce) reject(err);
    }, timeLimitMs));
  });
  hardLimit.catch(() => {}); // raced, or never looked at once the handler ended first
  return { hardLimit, clear: () => timers.forEach(clearTimeout) };
}

/** The error an onFailure hook gets for a failure that crossed from a child as its record. */
export function errorFromInfo(info: ErrorInfo): Error {
  const err = new Error(info.message);
  err.name = info.type;
  if (info.stack) err.stack = info.stack;
  if (info.code) (err as Error & { code?: string }).code = info.code;
  return err;
}

export async function runFailureHook(task: Task<never[], unknown> | undefined, job: ReservedJob, args: unknown[], error: unknown, logger: Logger): Promise<void> {
  if (!task?.options.onFailure) return;
  try {
    await task.options.onFailure(error, { id: job.id, name: job.task, args, attempt: job.attempt });
  } catch (err) {
    logger.error({ err, job: job.id }, `onFailure hook of ${job.task} threw`);
  }
}
