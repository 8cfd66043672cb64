/**
 * Reconcile loops: don't fire and forget. Instead of trusting that every job that should exist
 * was sent (a crash between a database write and `delay()` loses it silently), a reconcile loop
 * periodically asks `find()` what should exist or be done and sends it with a dedup key, so
 * sending what is already waiting, running, or (with a key TTL) done is free.
 *
 * Each tick is itself a job (`conveyor.reconcile:<name>`), sent by every worker's loop with one
 * idempotency key held while it waits or runs and for half a period after: however many workers
 * tick, one reconcile runs at a time, about once per period, under a lease like any job (a dead
 * worker's reconcile is redelivered). Two running anyway (a lapsed lease) is harmless: every
 * send is deduplicated.
 */
import { toMs, type Duration } from '../duration.js';
import type { TaskContext } from '../context.js';
import { InvalidArgumentError } from '../errors.js';
import type { ApplyOptions } from '../canvas.js';
import type { AsyncResult } from '../result.js';
import { checkName } from '../store/checks.js';
import type { Task } from '../task.js';

/** Options of `app.reconcile`. */
export interface ReconcileOptions<T, A extends unknown[]> {
  /** How often to reconcile. @example '1m' */
  every: Duration;
  /** What should exist or be done now: one item per job to (re)send. */
  find: (ctx: TaskContext) => Promise<Iterable<T>> | Iterable<T>;
  /** The task to send for each item. */
  task: Task<A, unknown>;
  /** The dedup key of an item's job: equal items, equal keys. @example (row) => `dns:${row.name}` */
  key: (item: T) => string;
  /** The task's args for an item. @default (item) => [item] */
  args?: (item: T) => A;
  /** Keep each item's key held this long after its job ends (no resend within it). @default released when it ends */
  keyTtl?: Duration;
}

/** What one reconcile run did (its job's result). */
export interface ReconcileReport {
  /** Items `find()` returned. */
  found: number;
  /** Jobs created (the rest were already waiting or running: deduplicated). */
  sent: number;
}

/** What the app needs to register a reconcile loop. */
export interface ReconcileHost {
  task<A extends unknown[], R>(options: { name: string }, handler: (ctx: TaskContext, ...args: A) => Promise<R>): Task<A, R>;
}

/** A registered reconcile loop; workers tick it every `everyMs`. */
export class Reconciler {
  readonly everyMs: number;
  readonly #runner: Task<[], ReconcileReport>;

  /** @internal Register with `app.reconcile`. */
  constructor(readonly name: string, options: ReconcileOptions<unknown, unknown[]>, host: ReconcileHost) {
    const field = `reconcile "${name}"`;
    checkName(name, 'reconcile name');
    this.everyMs = toMs(options.every, `${field}: every`);
    if (this.everyMs < 1000) throw new InvalidArgumentError(`${field}: every must be at least 1s, got ${this.everyMs} ms`);
    for (const fn of ['find', 'key'] as const) {
      if (typeof options[fn] !== 'function') throw new InvalidArgumentError(`${field}: ${fn} must be a function`);
    }
    const send: ApplyOptions = options.keyTtl === undefined ? {} : { idempotencyTtl: options.keyTtl };
    const args = options.args ?? ((item: unknown) => [item]);
    this.#runner = host.task({ name: `conveyor.reconcile:${name}` }, async (ctx: TaskContext): Promise<ReconcileReport> => {
      const items = [...(await options.find(ctx))];
      // Sent in one turn: one atomic enqueue for the lot.
      const results = await Promise.all(items.map((item) => options.task.applyAsync(args(item), { ...send, idempotencyKey: options.key(item) })));
      return { found: items.length, sent: results.filter((r) => !r.duplicate).length };
    });
  }

  /** Send this loop's run, unless one is waiting, running, or ended less than half a period ago. */
  tick(): Promise<AsyncResult<ReconcileReport>> {
    return this.#runner.applyAsync([], { idempotencyKey: `conveyor.reconcile:${this.name}`, idempotencyTtl: this.everyMs / 2 });
  }
}
