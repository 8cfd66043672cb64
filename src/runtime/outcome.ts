/**
 * How an attempt's end becomes a settlement: complete, retry, or fail. Pure given its inputs,
 * so every branch of the retry policy is testable without a worker.
 */
import { errorInfo, MaxRetriesExceededError, NotJsonError, NotRegisteredError, PayloadTooLargeError, Retry } from '../errors.js';
import { backoffDelay, isRetryable } from '../retry.js';
import type { ReservedJob, Settlement } from '../store/store.js';
import type { ResolvedTaskOptions } from '../task.js';

/** The settlement for an attempt that threw `error`. */
export function failureSettlement(
  job: ReservedJob,
  task: ResolvedTaskOptions | undefined,
  error: unknown,
  random: () => number = Math.random,
): Settlement {
  const { id, token } = job;
  const fail = (err: unknown): Settlement => ({ kind: 'fail', id, token, error: errorInfo(err) });
  // Errors that would recur on every attempt: no task to run, a result that is not JSON or too large.
  if (!task || error instanceof NotRegisteredError || error instanceof NotJsonError || error instanceof PayloadTooLargeError) return fail(error);
  const retriesUsed = job.attempt - 1;
  const budgetLeft = retriesUsed < task.retry.max;
  if (error instanceof Retry) {
    if (!budgetLeft) {
      return fail(error.cause ?? new MaxRetriesExceededError(`task ${task.name}[${id}] asked for a retry after ${retriesUsed} retries (max ${task.retry.max})`));
    }
    const delay = error.countdownMs ?? backoffDelay(retriesUsed + 1, task.retry, random);
    return { kind: 'retry', id, token, error: errorInfo(error.cause ?? error), delayMs: Math.ceil(delay) };
  }
  if (task.autoRetry && budgetLeft && isRetryable(error, task.retry)) {
    return { kind: 'retry', id, token, error: errorInfo(error), delayMs: backoffDelay(retriesUsed + 1, task.retry, random) };
  }
  return fail(error);
}
