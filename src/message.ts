/**
 * The job message and the JSON rules for what crosses the store.
 *
 * Args and results must be plain JSON so that any worker, in any process, on any store, sees
 * exactly what the caller sent. Anything JSON.stringify would silently mangle (a Date becomes a
 * string, a Map becomes `{}`, NaN becomes null, a BigInt throws) is refused up front with the
 * path of the offending value and what to pass instead.
 */
import { createHash, randomUUID } from 'node:crypto';
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError, NotJsonError, PayloadTooLargeError } from './errors.js';
import { checkName, checkQueueName } from './store/checks.js';
import type { NewJob } from './store/store.js';

/** Default limit on the serialized size of a job's args or result: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor = Object.getPrototypeOf(value)?.constructor;
  return ctor?.name ? `a ${ctor.name}` : 'an object with a custom prototype';
}

function advice(value: unknown): string {
  if (value instanceof Date) return 'pass date.toISOString() (or getTime()) and rebuild the Date in the task';
  if (value instanceof Map) return 'pass Object.fromEntries(map) or [...map] instead';
  if (value instanceof Set) return 'pass [...set] instead';
  if (typeof value === 'bigint') return 'pass it as a string (value.toString()) instead';
  if (typeof value === 'function') return 'functions cannot be sent; pass the data the function needs';
  if (typeof value === 'symbol') return 'pass a string instead';
  if (typeof value === 'number') return 'pass a finite number, or null';
  if (value === undefined) return 'pass null instead';
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return "pass it as a base64 string (Buffer.from(x).toString('base64')) instead";
  return 'pass a plain object (its fields) instead of a class instance';
}

function fail(path: string, value: unknown, what?: string): never {
  throw new NotJsonError(path, `${path} is ${what ?? describe(value)}, which is not JSON: ${advice(value)}`);
}

function checkValue(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, value, String(value));
      return;
    case 'object':
      break;
    case 'undefined':
      return fail(path, value, 'undefined');
    default:
      return fail(path, value, `a ${typeof value}`);
  }
  if (value === null) return;
  if (seen.has(value)) throw new NotJsonError(path, `${path} refers back to one of its parents (a cycle), which is not JSON: pass a copy without the back-reference`);
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkValue(value[i], `${path}[${i}]`, seen);
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) fail(path, value);
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      // An undefined field is dropped by JSON, as users of optional fields expect.
      if (child !== undefined) checkValue(child, /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, seen);
    }
  }
  seen.delete(value);
}

/**
 * Check that `value` is plain JSON and serialize it.
 * @param path names the value in errors (`args`, `result`).
 * @throws NotJsonError naming the path of the first offending value.
 * @throws PayloadTooLargeError when the JSON is over `maxBytes`.
 */
export function toJson(value: unknown, path: string, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): string {
  checkValue(value, path, new Set());
  const text = JSON.stringify(value);
  // Cheap bound first: a UTF-8 byte count is at most 3x the UTF-16 length.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxBytes) throw new PayloadTooLargeError(path, bytes, maxBytes);
  }
  return text;
}

/** The per-call options that shape one job (ApplyOptions in canvas.ts adds the links to other tasks). */
export interface SendOptions {
  /** Start no sooner than this long from now. */
  countdown?: Duration;
  /** Start no sooner than this time (a Date, epoch ms, or an ISO string). */
  eta?: Date | number | string;
  /** Revoke the job instead of starting it after this long from now, or after this time. */
  expires?: Duration | Date;
  /** Send to this queue instead of the task's. */
  queue?: string;
  /** Higher runs first. @default the task's priority, else 0 */
  priority?: number;
  /** Use this id instead of a random UUID. */
  taskId?: string;
  /**
   * Enqueue dedup: while a job sent with this key waits or runs (and `idempotencyTtl` after it
   * ends), sending again creates nothing and answers that job's AsyncResult: same id, same result.
   * @example await charge.applyAsync([orderId], { idempotencyKey: `charge:${orderId}` })
   */
  idempotencyKey?: string;
  /** Keep the key held this long after the job ends, so late duplicates get its result too. @default released when it ends */
  idempotencyTtl?: Duration;
}

/** A task's enqueue dedup: derive the key from the task name and its args. */
export interface IdempotentDefaults {
  /** How long the key stays held after the job ends; null: until it ends. */
  ttlMs: number | null;
}

/** The task-level defaults one job is built from (JobDefaults in canvas.ts adds the task's links). */
export interface SendDefaults {
  queue: string;
  priority: number;
  maxDeliveries: number;
  /** Relative expiry of every job of the task, if any. */
  expiresMs: number | undefined;
  maxPayloadBytes: number;
  /** Dedup every job of the task by a key derived from its args. */
  idempotent?: IdempotentDefaults;
}

/** `[first, ...args]` from JSON texts, without parsing either (a result keeps its exact text). */
export function prependArg(firstJson: string, argsJson: string): string {
  const rest = argsJson.trim().slice(1).trimStart();
  return rest === ']' ? `[${firstJson}]` : `[${firstJson},${rest}`;
}

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().flatMap((k) => {
      const v = (value as Record<string, unknown>)[k];
      return v === undefined ? [] : [`${JSON.stringify(k)}:${canonicalJson(v)}`];
    });
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The derived idempotency key of a task's call: its name and a SHA-256 of its canonical JSON args. */
export function derivedKey(task: string, args: readonly unknown[]): string {
  return `${task}:${createHash('sha256').update(canonicalJson(args)).digest('hex')}`;
}

function toEpoch(value: Date | number | string, field: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(`${field} must be a Date, epoch milliseconds or an ISO 8601 string, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/**
 * Build the job for one call: check the args and options. Times are left for the store to
 * resolve on its own clock: a countdown or a relative expiry travel as durations, and only an eta
 * or an expiry given as a date is an instant (a wall-clock time, as the caller's clock reads it).
 * @throws NotJsonError / PayloadTooLargeError for bad args, InvalidArgumentError for bad options.
 */
export function buildJob(task: string, args: readonly unknown[], defaults: SendDefaults, options: SendOptions): NewJob {
  if (!Array.isArray(args)) throw new InvalidArgumentError(`args must be an array of the task's arguments, got ${describe(args)}`);
  const argsJson = toJson(args, 'args', defaults.maxPayloadBytes);
  if (options.countdown !== undefined && options.eta !== undefined) {
    throw new InvalidArgumentError('options.countdown and options.eta both set: pass one of them');
  }
  const queue = checkQueueName(options.queue ?? defaults.queue, 'options.queue');
  const priority = options.priority ?? defaults.priority;
  if (!Number.isSafeInteger(priority)) throw new InvalidArgumentError(`options.priority must be an integer (higher runs first), got ${String(priority)}`);
  const id = options.taskId === undefined ? randomUUID() : checkName(options.taskId, 'options.taskId');
  const job: NewJob = {
    id, task, queue, argsJson, priority, runAt: null, expiresAt: null, maxDeliveries: defaults.maxDeliveries,
    idempotency: idempotencyOf(task, args, defaults, options),
  };
  // Rounded up: "not before" and "not after" must not move earlier.
  if (options.eta !== undefined) job.runAt = Math.ceil(toEpoch(options.eta, 'options.eta'));
  else if (options.countdown !== undefined) job.delayMs = Math.ceil(toMs(options.countdown, 'options.countdown'));
  if (options.expires instanceof Date) job.expiresAt = Math.ceil(toEpoch(options.expires, 'options.expires'));
  else if (options.expires !== undefined) job.expiresInMs = Math.ceil(toMs(options.expires, 'options.expires'));
  else if (defaults.expiresMs !== undefined) job.expiresInMs = Math.ceil(defaults.expiresMs);
  return job;
}

function idempotencyOf(task: string, args: readonly unknown[], defaults: SendDefaults, options: SendOptions): NewJob['idempotency'] {
  const key = options.idempotencyKey === undefined ? undefined : checkName(options.idempotencyKey, 'options.idempotencyKey');
  if (key === undefined && !defaults.idempotent) {
    if (options.idempotencyTtl !== undefined) throw new InvalidArgumentError('options.idempotencyTtl needs options.idempotencyKey (or a task declared idempotent)');
    return null;
  }
  const ttlMs = options.idempotencyTtl !== undefined ? toMs(options.idempotencyTtl, 'options.idempotencyTtl') : (defaults.idempotent?.ttlMs ?? null);
  return { key: key ?? derivedKey(task, args), ttlMs };
}
