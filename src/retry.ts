/**
 * Retry policy: which errors retry, how many times, and how long to wait (pure functions).
 *
 * Backoff is exponential and capped — `base * 2^(retry-1)`, at most `max` — with "full jitter"
 * (a uniform draw between 0 and that delay) so that a burst of failures does not retry in step.
 */
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError, PermanentError } from './errors.js';
import type { RetryAnswer } from './store/store.js';

/** An error class, matched with `instanceof`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

/** When and how a task's failed attempts are retried. */
export interface RetryPolicy {
  /**
   * Which errors retry: error classes (matched with instanceof) or a predicate. When left out,
   * every error retries except a {@link PermanentError}.
   * @example { on: [NetworkError, TimeoutError] }
   */
  on?: readonly ErrorClass[] | ((error: unknown) => boolean);
  /** Retries after the first attempt. @default 3 */
  max?: number;
  /** @default { base: '1s', max: '10m', jitter: true } */
  backoff?: BackoffOptions;
}

/** Exponential backoff settings. */
export interface BackoffOptions {
  /** The first retry's delay. @default '1s' */
  base?: Duration;
  /** The longest delay. @default '10m' */
  max?: Duration;
  /** Draw the delay uniformly between 0 and the computed one. @default true */
  jitter?: boolean;
}

/** Retries a task gets when its policy does not say. @default 3 (as Celery's max_retries) */
export const DEFAULT_MAX_RETRIES = 3;

/** A policy with its durations resolved and its defaults applied. */
export interface ResolvedRetry {
  on: RetryPolicy['on'];
  max: number;
  baseMs: number;
  maxMs: number;
  jitter: boolean;
}

/** Check a policy once, at task definition, so a typo fails at start, not at the first error. */
export function resolveRetry(policy: RetryPolicy | undefined, field: string): ResolvedRetry {
  const max = policy?.max ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(max) || max < 0) throw new InvalidArgumentError(`${field}.max must be an integer >= 0, got ${String(max)}`);
  return {
    on: policy?.on,
    max,
    baseMs: toMs(policy?.backoff?.base ?? 1000, `${field}.backoff.base`),
    maxMs: toMs(policy?.backoff?.max ?? 600_000, `${field}.backoff.max`),
    jitter: policy?.backoff?.jitter ?? true,
  };
}

/** Whether `error` should be retried under `policy` (only when the task declared a policy). */
export function isRetryable(error: unknown, policy: ResolvedRetry): boolean {
  if (error instanceof PermanentError || (error as { permanent?: unknown } | null)?.permanent === true) return false;
  const { on } = policy;
  if (on === undefined) return true;
  if (typeof on === 'function') return on(error);
  return on.some((cls) => error instanceof cls);
}

/**
 * The delay before retry number `retry` (1 for the first retry).
 * @param random injectable for tests; returns a number in [0, 1).
 */
export function backoffDelay(retry: number, policy: Pick<ResolvedRetry, 'baseMs' | 'maxMs' | 'jitter'>, random: () => number = Math.random): number {
  const exponential = policy.baseMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(policy.maxMs, exponential);
  return policy.jitter ? Math.floor(random() * capped) : capped;
}

/** What a dead-letter retry's answer means, for people (the CLI, the HTTP API): one sentence each. */
export function retryAnswerText(id: string, answer: RetryAnswer): string {
  switch (answer) {
    case 'retried':
      return `${id}: sent again`;
    case 'not-final':
      return `${id}: not retried: it has not failed or been revoked (only FAILURE and REVOKED jobs can be retried)`;
    case 'missing':
      return `${id}: no such job`;
    case 'key-held':
      return `${id}: not retried: another job holds its idempotency key now and does its work; retry it once that job has ended`;
    case 'chord-failed':
      return `${id}: not retried: it is a chord's callback and a member has not succeeded (or its result is gone); retry the failed member first`;
  }
}
