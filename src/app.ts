/**
 * `Conveyor`, the app: configuration, the task registry and the store. One per process; the web
 * server and the worker import the same module so both know the same tasks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';
import { callbacksOf, type ApplyOptions, type CanvasSender, type JobDefaults } from './canvas.js';
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError } from './errors.js';
import { buildJob, DEFAULT_MAX_PAYLOAD_BYTES } from './message.js';
import { Pool } from './pool.js';
import { AsyncResult } from './result.js';
import { Reconciler, type ReconcileOptions } from './scheduler/reconcile.js';
import { Schedule, type ScheduleOptions } from './scheduler/schedule.js';
import { checkName } from './store/checks.js';
import { DEFAULT_STORE_URL, openStore, parseStoreUrl } from './store/open.js';
import type { Counters, EnqueueResult, NewJob, RetryAnswer, Store } from './store/store.js';
import { resolveTaskOptions, Task, type ArgsSchema, type TaskDefaults, type TaskHandler, type TaskOptions, type TaskSender } from './task.js';

/** A job sent this turn, waiting to be written with the others. */
interface PendingSend {
  job: NewJob;
  resolve: (outcome: EnqueueResult) => void;
  reject: (error: unknown) => void;
}

/** Options of `new Conveyor()`. */
export interface ConveyorOptions {
  /**
   * Where state lives: a URL, or a Store instance.
   * @default process.env.CONVEYOR_STORE, else 'sqlite:./conveyor.db'
   */
  store?: string | Store;
  /** Queue of tasks that do not name one. @default 'default' */
  queue?: string;
  /** Lost deliveries of one attempt before a job fails with WorkerLostError. @default 5 */
  maxDeliveries?: number;
  /** How long results are kept. @default '24h' */
  resultTtl?: Duration;
  /** Largest JSON of a job's args or result, in bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /**
   * A clock for tests: the store this app opens reads time from it alone (see StoreOptions.clock),
   * and `app.now()` answers it. Without it the store decides on its own clock.
   * @default the store's own clock (app.now(): this machine's)
   */
  clock?: () => number;
  /** Where the app logs (a pool's double release, for one). @default a pino logger at `info` on stderr */
  logger?: Logger;
}

/**
 * The app.
 * @example
 * export const app = new Conveyor({ store: 'sqlite:./conveyor.db' });
 * export const add = app.task({ name: 'add' }, async (ctx, a: number, b: number) => a + b);
 */
export class Conveyor implements TaskSender, CanvasSender {
  readonly #tasks = new Map<string, Task<never[], unknown>>();
  readonly #defaults: TaskDefaults;
  readonly #clock: (() => number) | undefined;
  #storeUrl: string;
  #store: Store | undefined;
  /** The caller's transaction of `withTransaction`, for every send inside it. */
  readonly #transaction = new AsyncLocalStorage<unknown>();
  /** A Store instance the user passed: closed with the app, never reopened from a URL. */
  readonly #givenStore: boolean;
  /** Jobs sent this turn, not yet written. */
  #sending: PendingSend[] | undefined;
  readonly #reconcilers = new Map<string, Reconciler>();
  readonly #schedules = new Map<string, Schedule>();
  #logger: Logger | undefined;

  constructor(options: ConveyorOptions = {}) {
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#givenStore = typeof options.store === 'object';
    if (typeof options.store === 'object') this.#store = options.store;
    this.#storeUrl = typeof options.store === 'string' ? options.store : (process.env.CONVEYOR_STORE || DEFAULT_STORE_URL);
    parseStoreUrl(this.#storeUrl);
    const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1) throw new InvalidArgumentError(`maxPayloadBytes must be a positive integer, got ${String(maxPayloadBytes)}`);
    this.#defaults = {
      queue: options.queue ?? 'default',
      maxDeliveries: options.maxDeliveries ?? 5,
      resultTtlMs: toMs(options.resultTtl ?? '24h', 'resultTtl'),
      maxPayloadBytes,
    };
  }

  /** The store, opened on first use (so the CLI's `--store` can still replace it). */
  get store(): Store {
    this.#store ??= openStore(this.#storeUrl, this.#clock ? { clock: this.#clock } : {});
    return this.#store;
  }

  /**
   * The URL another thread or process can open this app's store from (the worker's lease thread,
   * a pool's children); undefined when the store was given as an object or a test clock is set.
   */
  get storeUrl(): string | undefined {
    return this.#givenStore || this.#clock ? undefined : this.#storeUrl;
  }

  /** The queue of tasks that do not name one. */
  get defaultQueue(): string {
    return this.#defaults.queue;
  }

  /** The app's logger. */
  get logger(): Logger {
    this.#logger ??= pino({ level: 'info' }, pino.destination(2));
    return this.#logger;
  }

  /** The app's clock, for what this process shows and schedules (beat ticks, a worker's start time): the test clock, else this machine's. */
  now(): number {
    return this.#clock ? this.#clock() : Date.now();
  }

  /**
   * Use another store URL (the CLI's `--store`). Only before the store is first used.
   * @throws InvalidArgumentError when the store is already open.
   */
  useStore(url: string): void {
    if (this.#store) throw new InvalidArgumentError(`useStore("${url}") after the store was opened: call it before sending or reading jobs`);
    parseStoreUrl(url); // fail now, with the URL's own error, on a bad URL
    this.#storeUrl = url;
  }

  /**
   * Register a task. Its args and result types flow to `delay`, `applyAsync` and `get`.
   * @example
   * const sendWelcome = app.task({ name: 'email.send_welcome', queue: 'emails' },
   *   async (ctx, to: string, username: string) => ({ status: 'sent', to }));
   */
  task<A extends unknown[], R>(options: TaskOptions, handler: TaskHandler<A, R>): Task<A, R> {
    checkName(options?.name, 'task options.name');
    if (typeof handler !== 'function') throw new InvalidArgumentError(`task "${options.name}": the handler must be a function (ctx, ...args) => result`);
    if (this.#tasks.has(options.name)) throw new InvalidArgumentError(`task "${options.name}" is already registered: task names must be unique in an app`);
    const task = new Task<A, R>(resolveTaskOptions(options, this.#defaults), handler, this);
    this.#tasks.set(task.name, task as unknown as Task<never[], unknown>);
    return task;
  }

  /** The registered tasks by name. */
  get tasks(): ReadonlyMap<string, Task<never[], unknown>> {
    return this.#tasks;
  }

  /**
   * Send a task by name, without its definition (Celery's `send_task`): args and options are
   * checked; the task's own defaults apply when this app registered it.
   * @example await app.send('email.send_welcome', ['ann@example.com', 'ann'], { queue: 'emails' })
   */
  send<R = unknown>(name: string, args: readonly unknown[], options: ApplyOptions = {}): Promise<AsyncResult<R>> {
    return this.sendJob<R>(name, args, this.jobDefaults(name), options);
  }

  /** The defaults a job of task `name` is built with: its task's when registered here, else the app's. */
  jobDefaults(name: string): JobDefaults {
    return this.#tasks.get(name)?.options.job ?? { ...this.#defaults, priority: 0, expiresMs: undefined };
  }

  /** @internal */
  async sendJob<R>(name: string, args: readonly unknown[], defaults: JobDefaults, options: ApplyOptions): Promise<AsyncResult<R>> {
    checkName(name, 'task name');
    checkArgs(this.#tasks.get(name)?.options.argsSchema, name, args);
    const job = buildJob(name, args, defaults, options);
    const callbacks = callbacksOf(options, defaults);
    const withCallbacks = callbacks.length ? { ...job, callbacks } : job;
    const tx = options.tx ?? this.#transaction.getStore();
    const outcome = tx === undefined ? await this.#enqueue(withCallbacks) : (await this.store.jobsEnqueue([withCallbacks], { tx }))[0]!;
    return new AsyncResult<R>(outcome.id, () => this.store, !outcome.created);
  }

  /** @internal Enqueue built jobs together (in this turn's batch, or the caller's transaction: all or none). */
  enqueueJobs(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const tx = this.#transaction.getStore();
    if (tx !== undefined) return this.store.jobsEnqueue(jobs, { tx });
    return Promise.all(jobs.map((job) => this.#enqueue(job)));
  }

  /**
   * Run `fn` with every send inside it — `delay`, `applyAsync`, `app.send`, chains, groups and
   * chords — enqueued in your open database transaction `tx` (PostgreSQL store only; see
   * `ApplyOptions.tx`): the jobs exist only if it commits. You begin and commit it yourself.
   * @example
   * await db.query('BEGIN');
   * const order = await insertOrder(db, cart);
   * await app.withTransaction(db, () => invoice.delay(order.id));
   * await db.query('COMMIT'); // the invoice job exists, and runs, from here on
   */
  withTransaction<T>(tx: unknown, fn: () => T | Promise<T>): Promise<T> {
    if (tx === undefined || tx === null) {
      return Promise.reject(new InvalidArgumentError('withTransaction(tx, fn): tx is missing; pass your open transaction (a node-postgres client after BEGIN, a postgres.js transaction)'));
    }
    return Promise.resolve(this.#transaction.run(tx, fn));
  }

  /**
   * Jobs sent in the same turn (a `Promise.all` of `delay` calls) are written in one transition:
   * one commit for the lot instead of one each. All or none, as for a single job.
   */
  #enqueue(job: NewJob): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      if (!this.#sending) {
        const batch: PendingSend[] = [];
        this.#sending = batch;
        queueMicrotask(() => {
          this.#sending = undefined;
          this.store.jobsEnqueue(batch.map((b) => b.job)).then(
            (outcomes) => batch.forEach((b, i) => b.resolve(outcomes[i]!)),
            (err: unknown) => batch.forEach((b) => b.reject(err)),
          );
        });
      }
      this.#sending!.push({ job, resolve, reject });
    });
  }

  /** The tracking number of a job by id. */
  result<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, () => this.store);
  }

  /**
   * Cancel a job that has not finished. A waiting job never starts; a running job's outcome is
   * discarded, and with `terminate` its handler's `ctx.signal` is aborted (within a heartbeat).
   * @returns 'revoked', 'final' (it had already finished) or 'missing' (unknown id).
   */
  revoke(id: string, options: { terminate?: boolean; reason?: string } = {}): Promise<'revoked' | 'final' | 'missing'> {
    return this.store.jobRevoke({ id, terminate: options.terminate ?? false, reason: options.reason });
  }

  /**
   * Send a FAILURE or REVOKED job again, with a fresh retry budget (the dead-letter retry).
   * @returns 'retried'; 'not-final' (it has not failed or been revoked); 'missing'; 'key-held'
   * (another job holds its idempotency key now: retrying would run the work twice); 'chord-failed'
   * (a chord's callback whose member has not succeeded: retry the member first).
   */
  retry(id: string): Promise<RetryAnswer> {
    return this.store.jobRetry(id);
  }

  /** Delete the waiting jobs of a queue; returns how many. */
  purge(queue: string): Promise<number> {
    return this.store.queuePurge(queue);
  }

  /**
   * The exactly-once counters of the whole store (every process): duplicates suppressed at
   * enqueue, steps replayed, stale writes refused, callbacks deduplicated, double releases,
   * leaked pool items reclaimed.
   */
  counters(): Promise<Counters> {
    return this.store.countersGet();
  }

  /**
   * A named pool of items that jobs hold one at a time (executors, licences, accounts).
   * @example
   * const executors = app.pool('executors');
   * await executors.add('exec-1', 'exec-2');
   * const lease = await executors.acquire({ ttl: '10m', wait: '1m' });
   * try { await evaluate(lease.item) } finally { await lease.release() }
   */
  pool(name: string): Pool {
    return new Pool(name, () => this.store, () => this.logger);
  }

  /**
   * Register a reconcile loop, run by workers: every `every`, `find()` says what should exist or
   * be done, and each item is sent to `task` with the dedup key `key(item)`, so resending what is
   * already waiting or running is free. One run at a time across all workers.
   * @example
   * app.reconcile('dns', { every: '1m', task: syncRecord, key: (r) => `dns:${r.name}`,
   *   find: () => db.query('SELECT * FROM records WHERE synced_at < updated_at') });
   */
  reconcile<T, A extends unknown[]>(name: string, options: ReconcileOptions<T, A>): Reconciler {
    if (this.#reconcilers.has(name)) throw new InvalidArgumentError(`reconcile "${name}" is already registered: names must be unique in an app`);
    const reconciler = new Reconciler(name, options as unknown as ReconcileOptions<unknown, unknown[]>, this);
    this.#reconcilers.set(name, reconciler);
    return reconciler;
  }

  /** The registered reconcile loops by name. */
  get reconcilers(): ReadonlyMap<string, Reconciler> {
    return this.#reconcilers;
  }

  /**
   * Register a periodic task (Celery beat's schedule entry), sent on each tick by beat
   * (`conveyor beat`, or `conveyor worker --beat`): once per tick however many beats run.
   * @throws InvalidArgumentError on a bad cron expression or timezone, naming croner's reason.
   * @example
   * app.schedule('nightly-report', { cron: '0 2 * * *', timezone: 'Europe/Paris', task: report, args: ['daily'] });
   * app.schedule('heartbeat', { every: '30s', task: ping });
   */
  schedule<A extends unknown[]>(name: string, options: ScheduleOptions<A>): Schedule {
    if (this.#schedules.has(name)) throw new InvalidArgumentError(`schedule "${name}" is already registered: names must be unique in an app`);
    const schedule = new Schedule(name, options as unknown as ScheduleOptions<unknown[]>);
    this.#schedules.set(name, schedule);
    return schedule;
  }

  /** The registered schedules by name. */
  get schedules(): ReadonlyMap<string, Schedule> {
    return this.#schedules;
  }

  /** Close the store. */
  async close(): Promise<void> {
    await this.#store?.close();
    if (!this.#givenStore) this.#store = undefined;
  }
}

/** Refuse args that fail the task's schema, naming the first bad path. */
function checkArgs(schema: ArgsSchema | undefined, task: string, args: readonly unknown[]): void {
  if (!schema) return;
  const checked = schema.safeParse(args);
  if (checked.success) return;
  const issue = checked.error?.issues[0];
  const path = `args${(issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
  throw new InvalidArgumentError(`task "${task}": ${path}: ${issue?.message ?? 'does not match the task\'s argsSchema'}`);
}
