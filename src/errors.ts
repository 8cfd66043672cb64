/**
 * Typed errors. Every condition has its own class with a literal `code`, so callers branch on
 * `instanceof` or `err.code`, never on message text.
 */
import { wellFormed } from './text.js';

/** Base class of every error Conveyor throws. */
export class ConveyorError extends Error {
  /** A stable, machine-readable name for the condition. */
  readonly code: string = 'CONVEYOR_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value given to Conveyor is not usable; the message names the field and what to pass. */
export class InvalidArgumentError extends ConveyorError {
  override readonly code: string = 'INVALID_ARGUMENT';
}

/** Args or a result are not plain JSON; `path` names the offending value (`args[1].when`). */
export class NotJsonError extends InvalidArgumentError {
  override readonly code = 'NOT_JSON';
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** A serialized payload is larger than the configured limit. */
export class PayloadTooLargeError extends InvalidArgumentError {
  override readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(readonly path: string, readonly bytes: number, readonly limit: number) {
    super(`${path} is ${bytes} bytes of JSON, over the ${limit}-byte limit: store large data elsewhere (a file, a bucket) and pass its key instead`);
  }
}

/** A store URL has a scheme Conveyor does not know. */
export class UnknownStoreError extends InvalidArgumentError {
  override readonly code = 'UNKNOWN_STORE';
}

/** The store could not be reached (a server down, a network cut) within the configured bound. */
export class StoreUnavailableError extends ConveyorError {
  override readonly code = 'STORE_UNAVAILABLE';
}

/** A store's schema is not the version this build needs (a database migrated by hand, or not at all). */
export class StoreSchemaError extends ConveyorError {
  override readonly code = 'STORE_SCHEMA';
}

/** A worker received a job whose task name is not registered in its app. */
export class NotRegisteredError extends ConveyorError {
  override readonly code = 'NOT_REGISTERED';
  constructor(readonly taskName: string) {
    super(`task "${taskName}" is not registered in this worker's app: register it with app.task({ name: "${taskName}" }, ...) or route it to a worker that has it`);
  }
}

/**
 * A write about a job was refused because the writer's lease is no longer current: the lease
 * expired and the job was redelivered (its fencing token moved on), or the job was revoked.
 */
export class LeaseLostError extends ConveyorError {
  override readonly code = 'LEASE_LOST';
  constructor(readonly jobId: string, readonly token: number, readonly reason: 'stale' | 'revoked' | 'final' | 'missing' = 'stale') {
    super(`lease on job ${jobId} (token ${token}) is lost (${reason}): another delivery or a revoke replaced it, so this write was refused`);
  }
}

/**
 * Fill a message template's `{name}` placeholders in one pass (a value holding braces is not
 * read again). The templates of the errors a store records are filled by every engine — by this
 * function in TypeScript, by its mirror in Redis' Lua — so their text is written once, here.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** A job's lease expired too many times: its worker keeps dying on it (poison-pill guard). */
export class WorkerLostError extends ConveyorError {
  override readonly code = 'WORKER_LOST';
  /** The message, as every store records it. */
  static readonly template = 'job {id} was delivered {deliveries} times and its worker was lost each time (killed, crashed or frozen past its lease); giving up';
  constructor(readonly jobId: string, readonly deliveries: number) {
    super(fillTemplate(WorkerLostError.template, { id: jobId, deliveries }));
  }
}

/** A job reached the head of its queue after its `expires` had passed: it is REVOKED, not run. */
export class JobExpiredError extends ConveyorError {
  override readonly code = 'EXPIRED';
  /** The message, as every store records it. */
  static readonly template = 'job {id} expired before a worker could start it (its expires time had passed)';
  constructor(readonly jobId: string) {
    super(fillTemplate(JobExpiredError.template, { id: jobId }));
  }
}

/**
 * A chord's callback was not run because a member did not succeed: the callback is recorded as
 * FAILURE with this error (its failure callbacks fire), naming the first such member by index.
 * A dead-letter retry of the callback runs it once every member has succeeded.
 */
export class ChordError extends ConveyorError {
  override readonly code = 'CHORD_FAILED';
  /** The message, as every store records it: the member, its final state and its own error. */
  static readonly template = 'chord member {member} (index {index}) ended {state}: {type}: {message}';
  constructor(readonly memberId: string, readonly index: number, readonly state: string, override readonly cause: ErrorInfo | null) {
    super(fillTemplate(ChordError.template, { member: memberId, index, state, type: cause?.type ?? 'Error', message: cause?.message ?? '' }));
  }
}

/** A task ran longer than its `timeLimit`; its `ctx.signal` was aborted. */
export class TimeLimitExceededError extends ConveyorError {
  override readonly code = 'TIME_LIMIT_EXCEEDED';
  constructor(readonly limitMs: number) {
    super(`task exceeded its time limit of ${limitMs} ms`);
  }
}

/**
 * A task ran longer than its `softTimeLimit`: its `ctx.signal` is aborted with this error so it
 * can clean up and stop; past `timeLimit` it is stopped whatever it does (Celery's
 * SoftTimeLimitExceeded).
 */
export class SoftTimeLimitExceededError extends ConveyorError {
  override readonly code = 'SOFT_TIME_LIMIT_EXCEEDED';
  constructor(readonly limitMs: number) {
    super(`task exceeded its soft time limit of ${limitMs} ms`);
  }
}

/** The job was revoked; thrown into `ctx.signal` when revoked with `terminate: true`. */
export class RevokedError extends ConveyorError {
  override readonly code = 'REVOKED';
  constructor(readonly jobId: string) {
    super(`job ${jobId} was revoked`);
  }
}

/** `AsyncResult.get` waited longer than its timeout. */
export class TimeoutError extends ConveyorError {
  override readonly code = 'TIMEOUT';
}

/** No item of a pool was free within the wait. */
export class PoolExhaustedError extends ConveyorError {
  override readonly code = 'POOL_EXHAUSTED';
  constructor(readonly pool: string, readonly waitedMs: number) {
    super(`pool "${pool}" had no free item within ${waitedMs} ms: add items, release held ones, or pass a longer { wait }`);
  }
}

/** A retry was asked for but the task has used all its retries. */
export class MaxRetriesExceededError extends ConveyorError {
  override readonly code = 'MAX_RETRIES_EXCEEDED';
}

/**
 * Throw (or wrap a cause in) a `PermanentError` to fail a job at once, with no retry, whatever
 * the task's retry policy says.
 * @example throw new PermanentError('card declined', { cause: err })
 */
export class PermanentError extends ConveyorError {
  override readonly code = 'PERMANENT';
}

/**
 * What a task throws to ask for a retry; build it with `ctx.retry({ countdown, cause })`.
 * The worker catches it and reschedules the job.
 */
export class Retry extends ConveyorError {
  override readonly code = 'RETRY';
  constructor(readonly countdownMs: number | undefined, cause?: unknown) {
    super(`retry requested${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause });
  }
}

/** The serialized form of an error, as stored with a failed job. */
export interface ErrorInfo {
  /** The error's class name (`TypeError`, `NetworkError`). */
  type: string;
  message: string;
  stack?: string;
  /** The error's `code` property, when it has one. */
  code?: string;
}

/** `AsyncResult.get` of a job that ended in FAILURE: carries the remote error's type, message and stack. */
export class TaskFailedError extends ConveyorError {
  override readonly code = 'TASK_FAILED';
  /** The remote error's class name. */
  readonly type: string;
  /** The remote error's stack trace, as captured in the worker. */
  readonly remoteStack: string | undefined;
  constructor(readonly jobId: string, readonly error: ErrorInfo) {
    super(`task ${jobId} failed: ${error.type}: ${error.message}`);
    this.type = error.type;
    this.remoteStack = error.stack;
  }
}

/** `AsyncResult.get` of a job that was revoked. */
export class TaskRevokedError extends ConveyorError {
  override readonly code = 'TASK_REVOKED';
  constructor(readonly jobId: string, readonly reason: string | undefined) {
    super(`task ${jobId} was revoked${reason ? ` (${reason})` : ''}`);
  }
}

/** The longest message or stack an error record keeps, in characters; the rest is cut. */
export const MAX_ERROR_TEXT = 65_536;

/** Free text from user code, as an error record keeps it: well-formed UTF-16, at most MAX_ERROR_TEXT. */
function errorText(text: string): string {
  const kept = text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}… (${text.length - MAX_ERROR_TEXT} more characters cut)` : text;
  return wellFormed(kept);
}

/**
 * Serialize any thrown value for storage. The text is the user's, so it is made storable rather
 * than refused: a lone surrogate becomes U+FFFD, and a message or stack past 64 Ki characters is cut.
 */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const stack = typeof err.stack === 'string' ? errorText(err.stack) : undefined;
    return { type: errorText(err.name || err.constructor.name), message: errorText(String(err.message)), stack, ...(typeof code === 'string' ? { code: errorText(code) } : {}) };
  }
  return { type: typeof err, message: errorText(String(err)) };
}
