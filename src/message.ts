/**
 * The job message and the JSON rules for what crosses the store.
 *
 * Args and results must be plain JSON so that any worker, in any process, on any store, sees
 * exactly what the caller sent. Anything JSON.stringify would silently mangle (a Date becomes a
 * string, a Map becomes `{}`, NaN becomes null, a BigInt throws) is refused up front with the
 * path of the offending value and what to pass instead.
 */
import { randomUUID } from 'node:crypto';
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError, NotJsonError, PayloadTooLargeError } from './errors.js';
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

/** Per-call options of `applyAsync` (and `app.send`). */
export interface ApplyOptions {
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
}

/** The task-level defaults a job is built from. */
export interface JobDefaults {
  queue: string;
  priority: number;
  maxDeliveries: number;
  /** Relative expiry of every job of the task, if any. */
  expiresMs: number | undefined;
  maxPayloadBytes: number;
}

function toEpoch(value: Date | number | string, field: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(`${field} must be a Date, epoch milliseconds or an ISO 8601 string, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/**
 * Build the job for one call: check the args and options, resolve times against `now`.
 * @throws NotJsonError / PayloadTooLargeError for bad args, InvalidArgumentError for bad options.
 */
export function buildJob(task: string, args: readonly unknown[], defaults: JobDefaults, options: ApplyOptions, now: number): NewJob {
  if (!Array.isArray(args)) throw new InvalidArgumentError(`args must be an array of the task's arguments, got ${describe(args)}`);
  const argsJson = toJson(args, 'args', defaults.maxPayloadBytes);
  if (options.countdown !== undefined && options.eta !== undefined) {
    throw new InvalidArgumentError('options.countdown and options.eta both set: pass one of them');
  }
  const runAt = options.eta !== undefined ? toEpoch(options.eta, 'options.eta')
    : options.countdown !== undefined ? now + toMs(options.countdown, 'options.countdown') : now;
  let expiresAt: number | null = defaults.expiresMs === undefined ? null : now + defaults.expiresMs;
  if (options.expires !== undefined) {
    expiresAt = options.expires instanceof Date ? toEpoch(options.expires, 'options.expires') : now + toMs(options.expires, 'options.expires');
  }
  const queue = options.queue ?? defaults.queue;
  if (typeof queue !== 'string' || queue === '') throw new InvalidArgumentError(`options.queue must be a non-empty string, got ${JSON.stringify(queue)}`);
  const priority = options.priority ?? defaults.priority;
  if (!Number.isSafeInteger(priority)) throw new InvalidArgumentError(`options.priority must be an integer (higher runs first), got ${String(priority)}`);
  const id = options.taskId ?? randomUUID();
  if (typeof id !== 'string' || id === '') throw new InvalidArgumentError(`options.taskId must be a non-empty string, got ${JSON.stringify(id)}`);
  return { id, task, queue, argsJson, priority, runAt, expiresAt, maxDeliveries: defaults.maxDeliveries };
}
