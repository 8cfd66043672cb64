/**
 * What every engine refuses before it writes anything, so a call with one bad item changes
 * nothing at all: Redis does not undo a script's earlier writes when a later command fails, so
 * engines check a whole batch here first, and their scripts read and check before they write.
 *
 * Refused: identifiers that are empty, too long or not well-formed UTF-16 (see text.ts), queue
 * names with braces, and numbers that are not integers in range. JSON texts are not parsed here:
 * the client made them with JSON.stringify, whose output is always well-formed.
 *
 * Each check throws InvalidArgumentError naming the offending field by its path in the call
 * (`jobs[3].idempotency.key`), so nobody has to guess which item of a batch was bad.
 */
import type { ErrorInfo } from '../errors.js';
import { InvalidArgumentError } from '../errors.js';
import { loneSurrogateAt } from '../text.js';
import type { Callback, CallbackJob, LeaseRef, NewJob, Settlement } from './store.js';

/** The longest identifier, in UTF-16 code units. */
const MAX_NAME_LENGTH = 1024;

function refuseLoneSurrogate(text: string, field: string): void {
  const at = loneSurrogateAt(text);
  if (at < 0) return;
  throw new InvalidArgumentError(
    `${field} holds a lone UTF-16 surrogate at index ${at} (text cut in the middle of a character, such as half an emoji), which has no UTF-8 form: pass well-formed text (text.toWellFormed() replaces it with U+FFFD)`,
  );
}

/**
 * Check an identifier: a non-empty, well-formed string of at most {@link MAX_NAME_LENGTH} units.
 * @throws InvalidArgumentError naming `field` and what to pass instead.
 */
export function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH) {
    const got = typeof value === 'string' ? `${value.length} characters` : JSON.stringify(value) ?? String(value);
    throw new InvalidArgumentError(`${field} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters, got ${got}`);
  }
  refuseLoneSurrogate(value, field);
  return value;
}

/**
 * Check a queue name: an identifier without `{` or `}`. On Redis a queue's name is its keys'
 * Cluster hash tag, and a brace would cut the tag short; refused on every engine, so an app
 * moves between engines unchanged.
 */
export function checkQueueName(value: unknown, field: string): string {
  const queue = checkName(value, field);
  if (/[{}]/.test(queue)) throw new InvalidArgumentError(`${field} ${JSON.stringify(queue)} holds "{" or "}", which queue names may not (they are Redis Cluster hash tags): use letters, digits and . _ : -`);
  return queue;
}

/**
 * Check free text (a revoke reason, an error message): a well-formed string, possibly empty.
 * @throws InvalidArgumentError naming `field`.
 */
export function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${field} must be a string, got ${typeof value}`);
  refuseLoneSurrogate(value, field);
  return value;
}

const CALLBACK_ON = new Set(['success', 'failure', 'final']);

/** An integer of at least `min`, as every count, time and duration the store keeps. */
export function checkInteger(value: unknown, field: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const range = min === Number.MIN_SAFE_INTEGER ? 'an integer' : `an integer >= ${min}`;
    throw new InvalidArgumentError(`${field} must be ${range}, got ${typeof value === 'number' ? value : JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function checkJson(value: unknown, field: string): void {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${field} must be JSON text, got ${typeof value}`);
}

function checkCallbackJob(job: CallbackJob, field: string): void {
  checkName(job.id, `${field}.id`);
  checkName(job.task, `${field}.task`);
  checkQueueName(job.queue, `${field}.queue`);
  checkJson(job.argsJson, `${field}.argsJson`);
  checkInteger(job.priority, `${field}.priority`);
  checkInteger(job.maxDeliveries, `${field}.maxDeliveries`, 1);
  job.callbacks?.forEach((c, i) => checkCallback(c, `${field}.callbacks[${i}]`));
}

function checkCallback(callback: Callback, field: string): void {
  if (!CALLBACK_ON.has(callback.on)) throw new InvalidArgumentError(`${field}.on must be success, failure or final, got ${JSON.stringify(callback.on)}`);
  checkCallbackJob(callback.job, `${field}.job`);
}

/** A time given as epoch ms (`at`) or, with `at` null, as a duration from the store's now (`in`). */
function checkTime(job: NewJob, at: 'runAt' | 'expiresAt', after: 'delayMs' | 'expiresInMs', field: string): void {
  if (job[at] !== null) {
    checkInteger(job[at], `${field}.${at}`, 0);
    if (job[after] !== undefined) throw new InvalidArgumentError(`${field}: give ${at} or ${after}, not both`);
  } else if (job[after] !== undefined) {
    checkInteger(job[after], `${field}.${after}`, 0);
  }
}

/**
 * Refuse `{ tx }` on an engine that does not live in the caller's database.
 * @throws InvalidArgumentError saying which store it needs and which this is.
 */
export function checkNoTransaction(options: { tx?: unknown } | undefined, description: string): void {
  if (options?.tx === undefined) return;
  throw new InvalidArgumentError(`{ tx } enqueues inside your database transaction, so it needs the PostgreSQL store; this app's store is ${description}`);
}

/** The refusal of `ctx.transaction` by an engine that does not live in the caller's database. */
export function noCallerTransactions(description: string): InvalidArgumentError {
  return new InvalidArgumentError(`ctx.transaction commits your database writes together with the job's success, so it needs the PostgreSQL store; this worker's store is ${description} (use ctx.step with an idempotency key instead)`);
}

/** Check a batch of jobs to enqueue (`jobs[i]` in messages). */

export function checkNewJobs(jobs: readonly NewJob[]): void {
  jobs.forEach((job, i) => {
    const field = `jobs[${i}]`;
    checkCallbackJob(job, field);
    checkTime(job, 'runAt', 'delayMs', field);
    checkTime(job, 'expiresAt', 'expiresInMs', field);
    if (job.idempotency) {
      checkName(job.idempotency.key, `${field}.idempotency.key`);
      if (job.idempotency.ttlMs !== null) checkInteger(job.idempotency.ttlMs, `${field}.idempotency.ttlMs`, 0);
    }
    if (job.chord) {
      const { index, size, callback } = job.chord;
      checkInteger(size, `${field}.chord.size`, 1);
      checkInteger(index, `${field}.chord.index`, 0);
      if (index >= size) throw new InvalidArgumentError(`${field}.chord.index must be below chord.size (${size}), got ${index}`);
      checkCallbackJob(callback, `${field}.chord.callback`);
    }
  });
}

/** Check a lease reference (`field.id`, `field.token`). */
function checkLease(lease: LeaseRef, field: string): void {
  checkName(lease.id, `${field}.id`);
  checkInteger(lease.token, `${field}.token`, 0);
}

/** Check an error record a settlement writes. */
function checkErrorInfo(error: ErrorInfo, field: string): void {
  checkText(error.type, `${field}.type`);
  checkText(error.message, `${field}.message`);
  if (error.stack !== undefined) checkText(error.stack, `${field}.stack`);
  if (error.code !== undefined) checkText(error.code, `${field}.code`);
}

/** Check a batch of settlements (`settlements[i]` in messages). */
export function checkSettlements(settlements: readonly Settlement[]): void {
  settlements.forEach((s, i) => {
    const field = `settlements[${i}]`;
    checkLease(s, field);
    switch (s.kind) {
      case 'complete':
        if (s.resultJson !== null) checkJson(s.resultJson, `${field}.resultJson`);
        checkInteger(s.resultTtlMs, `${field}.resultTtlMs`, 0);
        return;
      case 'retry':
        checkInteger(s.delayMs, `${field}.delayMs`, 0);
        checkErrorInfo(s.error, `${field}.error`);
        return;
      case 'fail':
        checkErrorInfo(s.error, `${field}.error`);
        return;
      case 'release':
        return;
      default:
        throw new InvalidArgumentError(`${field}.kind must be complete, fail, retry or release, got ${JSON.stringify((s as { kind: unknown }).kind)}`);
    }
  });
}

/** Check reserve params (`reserve.*` in messages). */
export function checkReserve(params: { queues: readonly string[]; workerId: string; limit: number; leaseMs: number }): void {
  params.queues.forEach((q, i) => checkQueueName(q, `reserve.queues[${i}]`));
  checkName(params.workerId, 'reserve.workerId');
  checkInteger(params.limit, 'reserve.limit', 0);
  checkInteger(params.leaseMs, 'reserve.leaseMs', 1);
}

/** Check renew params. */
export function checkRenew(params: { leases: readonly LeaseRef[]; leaseMs: number }): void {
  params.leases.forEach((lease, i) => checkLease(lease, `leases[${i}]`));
  checkInteger(params.leaseMs, 'leaseMs', 1);
}

/** Check a step read or write (`resultJson` for writes). */
export function checkStep(params: { id: string; token: number; name: string; resultJson?: string }): void {
  checkLease(params, 'step');
  checkName(params.name, 'step.name');
  if (params.resultJson !== undefined) checkJson(params.resultJson, 'step.resultJson');
}

/** Check a progress report. */
export function checkProgress(params: { id: string; token: number; fraction: number; infoJson: string | null }): void {
  checkLease(params, 'progress');
  if (typeof params.fraction !== 'number' || !(params.fraction >= 0 && params.fraction <= 1)) {
    throw new InvalidArgumentError(`progress.fraction must be a number from 0 to 1, got ${String(params.fraction)}`);
  }
  if (params.infoJson !== null) checkJson(params.infoJson, 'progress.infoJson');
}

/** Check a pool's name and, when given, its items. */
export function checkPool(pool: string, items: readonly string[] = []): void {
  checkName(pool, 'pool');
  items.forEach((item, i) => checkName(item, `items[${i}]`));
}

/** Check an acquire. */
export function checkPoolAcquire(params: { pool: string; holder: string; ttlMs: number }): void {
  checkPool(params.pool);
  checkName(params.holder, 'holder');
  checkInteger(params.ttlMs, 'ttlMs', 1);
}

/** Check a pool lease reference (release). */
export function checkPoolLease(params: { pool: string; item: string; token: number }): void {
  checkPool(params.pool);
  checkName(params.item, 'item');
  checkInteger(params.token, 'token', 0);
}

/** Check a pool lease's renewal. */
export function checkPoolRenew(params: { pool: string; item: string; token: number; ttlMs: number }): void {
  checkPoolLease(params);
  checkInteger(params.ttlMs, 'ttlMs', 1);
}

/** Check a worker's heartbeat. */
export function checkHeartbeat(params: { worker: { id: string }; ttlMs: number }): void {
  checkName(params.worker.id, 'worker.id');
  checkInteger(params.ttlMs, 'ttlMs', 1);
}
