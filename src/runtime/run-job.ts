/**
 * One delivery of one job in a worker: build `ctx`, call the handler under its time limit,
 * turn the outcome into a settlement, and react to what the store says of it.
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import { createContext, storeSteps, type ParentJob } from '../context.js';
import { LeaseLostError, NotRegisteredError, RevokedError, Retry, TimeLimitExceededError } from '../errors.js';
import { toJson } from '../message.js';
import { localProgress, storeProgress, throttledProgress, type ProgressReporter } from '../progress.js';
import type { LeaseRef, LossReason, ReservedJob, Settlement, WriteOutcome } from '../store/store.js';
import type { Task } from '../task.js';
import { failureSettlement } from './outcome.js';

/** Counters a worker keeps of settled jobs. */
export interface SettleCounts {
  succeeded: number;
  failed: number;
  retried: number;
  lost: number;
}

/** A job running in a worker slot. */
export interface RunningJob {
  readonly lease: LeaseRef;
  /** Resolves (never rejects) when the handler has ended, with what to write. */
  readonly settlement: Promise<Settlement>;
  /** Abort the handler's `ctx.signal`. */
  abort(why: 'shutdown'): void;
  /** The store says this delivery's lease is gone. */
  lost(reason: LossReason, terminate: boolean): void;
  /** The store answered the settlement. */
  settled(outcome: WriteOutcome, settlement: Settlement, counts: SettleCounts): void;
}

/** Start one delivery. */
export function runJob(app: Conveyor, job: ReservedJob, logger: Logger): RunningJob {
  const task = app.tasks.get(job.task);
  const controller = new AbortController();
  const startedAt = performance.now();
  let lossLogged = false;
  let args: unknown[] = [];
  let thrown: unknown;
  const label = `${job.task}[${job.id}]`;

  const lost = (reason: LossReason, terminate: boolean): void => {
    if (reason === 'revoked' && terminate) controller.abort(new RevokedError(job.id));
    else if (reason !== 'revoked') controller.abort(new LeaseLostError(job.id, job.token, reason));
    if (!lossLogged) logger.warn({ job: job.id, token: job.token, reason }, `Task ${label} lost its lease (${reason}); its outcome will be discarded`);
    lossLogged = true;
  };

  // Made on the first report (most jobs never report); a report after the job ended is dropped.
  let progress: ProgressReporter | undefined;
  let ended = false;
  const reporter = (): ProgressReporter => (progress ??= ended ? localProgress() : throttledProgress(storeProgress(app.store, job.id, job.token, lost), {
    onError: (err) => logger.warn({ err, job: job.id }, `Task ${label} progress report not written; it is tried again shortly`),
  }));

  const settlement = (async (): Promise<Settlement> => {
    try {
      if (!task) throw new NotRegisteredError(job.task);
      args = JSON.parse(job.argsJson) as unknown[];
      const ctx = createContext({
        id: job.id, name: job.task, queue: job.queue, attempt: job.attempt, deliveries: job.deliveries,
        fencingToken: job.token, parent: parentOf(job),
      }, controller, { steps: storeSteps(app.store, job.id, job.token, lost), progress: reporter });
      const result = await withTimeLimit(task, controller, task.handler(ctx, ...(args as never[])));
      const resultJson = task.options.ignoreResult ? null : toJson(result === undefined ? null : result, 'result', task.options.job.maxPayloadBytes);
      return { kind: 'complete', id: job.id, token: job.token, resultJson, resultTtlMs: task.options.resultTtlMs };
    } catch (err) {
      // onFailure gets what the job fails with: a ctx.retry()'s cause, not the Retry wrapper.
      thrown = err instanceof Retry && err.cause !== undefined ? err.cause : err;
      return failureSettlement(job, task?.options, err);
    } finally {
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
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(3);
      if (!outcome.ok) {
        counts.lost++;
        if (!lossLogged) logger.warn({ job: job.id, token: job.token, reason: outcome.reason }, `Task ${label} outcome refused (${outcome.reason}): another delivery or a revoke replaced it`);
        return;
      }
      if (s.kind === 'complete') {
        counts.succeeded++;
        if (logger.isLevelEnabled('info')) logger.info({ job: job.id }, `Task ${label} succeeded in ${seconds}s`);
      } else if (s.kind === 'retry') {
        counts.retried++;
        logger.info({ job: job.id, error: s.error.message, delayMs: s.delayMs }, `Task ${label} retry ${job.attempt} in ${(s.delayMs / 1000).toFixed(3)}s: ${s.error.type}: ${s.error.message}`);
      } else if (s.kind === 'fail') {
        counts.failed++;
        logger.error({ job: job.id, error: s.error }, `Task ${label} failed in ${seconds}s: ${s.error.type}: ${s.error.message}`);
        void runFailureHook(task, job, args, thrown, logger);
      }
    },
  };
}

function parentOf(job: ReservedJob): ParentJob | null {
  const p = job.parent;
  if (!p) return null;
  return { id: p.id, task: p.task, state: p.state, result: p.resultJson === null ? null : JSON.parse(p.resultJson), error: p.error };
}

/** Race the handler against its time limit; past it, abort `ctx.signal` and fail the attempt. */
function withTimeLimit<R>(task: Task<never[], unknown>, controller: AbortController, work: Promise<R> | R): Promise<R> | R {
  const limitMs = task.options.timeLimitMs;
  if (limitMs === undefined) return work;
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new TimeLimitExceededError(limitMs);
      controller.abort(err);
      reject(err);
    }, limitMs);
    Promise.resolve(work).then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

async function runFailureHook(task: Task<never[], unknown> | undefined, job: ReservedJob, args: unknown[], error: unknown, logger: Logger): Promise<void> {
  if (!task?.options.onFailure) return;
  try {
    await task.options.onFailure(error, { id: job.id, name: job.task, args, attempt: job.attempt });
  } catch (err) {
    logger.error({ err, job: job.id }, `onFailure hook of ${job.task} threw`);
  }
}
