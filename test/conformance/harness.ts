/**
 * The per-test harness of the store conformance suite: a fresh store on a fake clock, builders
 * for jobs and settlements, and the `TestFn` the group files register their tests through.
 *
 * Terminology:
 * - T0      the fake clock's start, the same in every test.
 * - handle  one open `Store`; a test may open a second handle on the same storage (`shared`).
 */
import { randomUUID } from 'node:crypto';
import type { ErrorInfo } from '../../src/errors.js';
import { expiresAtOf, runAtOf } from '../../src/store/policy.js';
import {
  COUNTERS,
  type Callback,
  type CallbackJob,
  type CallbackOn,
  type Counters,
  type JobRecord,
  type LeaseRef,
  type LossReason,
  type NewJob,
  type ParentInfo,
  type ReserveParams,
  type ReservedJob,
  type Settlement,
  type StepOutcome,
  type Store,
  type WriteOutcome,
} from '../../src/store/store.js';

/** Where the fake clock starts in every test (epoch ms). */
export const T0 = 1_700_000_000_000;
/** The lease every helper reserves with. */
export const LEASE_MS = 30_000;
export const SECOND = 1_000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** What the suite passes to the engine's factory. */
export interface OpenParams {
  /** The store's clock: a fake one the tests advance by hand. Engines must read time only here. */
  clock: () => number;
  /**
   * False: open a fresh, empty store (a new SQLite file, a new Redis key prefix, a new Postgres
   * schema). True: open another handle on the storage the last `shared: false` call opened in
   * this test, as a second process would (the same SQLite file). The suite sets `shared: true`
   * only after a first open in the same test.
   */
  shared: boolean;
}

/** The engine's factory, given once to `runStoreConformance`. */
export type OpenStore = (params: OpenParams) => Promise<Store> | Store;

/** A connection of the suite's own to the database an engine with caller transactions lives in. */
export interface Database {
  /** Run one statement; answers its rows. */
  query(text: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  /** The qualified name of table `name` beside this test's store (removed with it). */
  table(name: string): string;
}

/** One test's world: its store, its fake clock and its extra handles. */
export class Harness {
  /** The fake clock's reading; tests move it with {@link advance}. */
  now = T0;
  readonly clock = (): number => this.now;
  readonly #open: OpenStore;
  #handles: Store[] = [];
  #store: Store | undefined;

  /** The store's database, for engines with caller transactions (see `ConformanceOptions.database`). */
  readonly database: Database | undefined;

  constructor(open: OpenStore, database?: Database) {
    this.#open = open;
    this.database = database;
  }

  /** The store opened for this test. */
  get store(): Store {
    if (!this.#store) throw new Error('the store is not open: setUp() did not run or failed');
    return this.#store;
  }

  async setUp(): Promise<void> {
    this.now = T0;
    this.#handles = [];
    this.#store = await this.#openHandle(false);
  }

  async tearDown(): Promise<void> {
    const handles = this.#handles.reverse();
    this.#handles = [];
    this.#store = undefined;
    for (const handle of handles) await handle.close();
  }

  /** Another handle on this test's storage, closed with the test. */
  openShared(): Promise<Store> {
    return this.#openHandle(true);
  }

  /** Move the fake clock forward; tests never sleep to let time pass. */
  advance(ms: number): void {
    this.now += ms;
  }

  /** Enqueue jobs built by {@link newJob}, answering them. */
  async enqueue(...overrides: Partial<NewJob>[]): Promise<NewJob[]> {
    const jobs = overrides.map((o) => newJob(o));
    await this.store.jobsEnqueue(jobs);
    return jobs;
  }

  /** Reserve from the `default` queue as `worker-1`, up to 10 jobs, unless overridden. */
  reserve(overrides: Partial<ReserveParams> = {}, store: Store = this.store): Promise<ReservedJob[]> {
    return store.jobsReserve({ queues: ['default'], workerId: 'worker-1', limit: 10, leaseMs: LEASE_MS, ...overrides });
  }

  /** Reserve exactly one job, failing the test when there is none. */
  async reserveOne(overrides: Partial<ReserveParams> = {}): Promise<ReservedJob> {
    const [job, ...rest] = await this.reserve({ limit: 1, ...overrides });
    if (!job || rest.length > 0) throw new Error(`expected to reserve one job, got ${rest.length + (job ? 1 : 0)}`);
    return job;
  }

  /** Settle one delivery, answering its outcome. */
  async settle(settlement: Settlement): Promise<WriteOutcome> {
    const [outcome] = await this.store.jobsSettle([settlement]);
    return outcome;
  }

  /** The job's record, failing the test when it is unknown. */
  async get(id: string) {
    const job = await this.store.jobGet(id);
    if (!job) throw new Error(`job ${id} is unknown to the store`);
    return job;
  }

  /** Reserve one job (as {@link reserveOne}) and complete it with `resultJson`, failing the test if refused. */
  async completeOne(resultJson: string | null = '{"status":"sent"}', overrides: Partial<ReserveParams> = {}): Promise<ReservedJob> {
    const job = await this.reserveOne(overrides);
    const outcome = await this.settle(complete(job, resultJson));
    if (!outcome.ok) throw new Error(`completing ${job.id} was refused: ${outcome.reason}`);
    return job;
  }

  /** The store's counters. */
  counters(store: Store = this.store): Promise<Counters> {
    return store.countersGet();
  }

  /** Let the lease of every job reserved now lapse, and recover them. */
  async loseLeases() {
    this.advance(LEASE_MS + 1);
    return this.store.jobsRecoverExpired();
  }

  async #openHandle(shared: boolean): Promise<Store> {
    const store = await this.#open({ clock: this.clock, shared });
    this.#handles.push(store);
    return store;
  }
}

/** A registered test: `name` must be unique in the suite (it is the key of `skip`). */
export type TestFn = (name: string, body: (h: Harness) => Promise<void>) => void;

/** A job in the `default` queue, due at T0, with a random id; `overrides` win. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: randomUUID(),
    task: 'test.echo',
    queue: 'default',
    argsJson: '[1,"two",{"three":3}]',
    priority: 0,
    runAt: T0,
    expiresAt: null,
    maxDeliveries: 3,
    ...overrides,
  };
}

/** The job a callback or a chord enqueues: in the `callbacks` queue, with a random id; `overrides` win. */
export function callbackJob(overrides: Partial<CallbackJob> = {}): CallbackJob {
  return { id: randomUUID(), task: 'test.callback', queue: 'callbacks', argsJson: '[1,"x"]', priority: 0, maxDeliveries: 3, ...overrides };
}

/** A callback firing `on` an outcome, enqueueing {@link callbackJob}(`job`). */
export function callback(on: CallbackOn, job: Partial<CallbackJob> = {}, passResult = false): Callback {
  return { on, passResult, job: callbackJob(job) };
}

/**
 * The record of a job enqueued at `now` and never touched since (`runAt` and `expiresAt` as given,
 * or resolved from `now` when relative, so a callback's record is
 * `pendingRecord({ ...cb, runAt: now, expiresAt: null }, now)`).
 */
export function pendingRecord(job: NewJob, now: number): JobRecord {
  return {
    id: job.id,
    task: job.task,
    queue: job.queue,
    state: 'PENDING',
    argsJson: job.argsJson,
    resultJson: null,
    error: null,
    priority: job.priority,
    attempt: 1,
    deliveries: 0,
    token: 0,
    worker: null,
    enqueuedAt: now,
    runAt: runAtOf(job, now),
    startedAt: null,
    finishedAt: null,
    leaseExpiresAt: null,
    expiresAt: expiresAtOf(job, now),
    maxDeliveries: job.maxDeliveries,
    idempotencyKey: job.idempotency?.key ?? null,
    callbacks: [...(job.callbacks ?? [])],
    chord: job.chord ?? null,
    followers: { callbacks: [], chords: [] },
    parent: null,
    progress: null,
    history: [],
  };
}

/** The record of callback `cb`, enqueued at `at` by `parent` with `argsJson` (dedup is by its id: no key). */
export function firedRecord(cb: CallbackJob, at: number, parent: ParentInfo | null, argsJson = cb.argsJson): JobRecord {
  return { ...pendingRecord({ ...cb, argsJson, runAt: at, expiresAt: null }, at), parent };
}

/** How many jobs the store holds, over every queue and state. */
export async function jobCount(h: Harness): Promise<number> {
  return (await h.store.queueStats()).reduce((n, s) => n + Object.values(s.counts).reduce((a, b) => a + b, 0), 0);
}

/** Every counter of {@link COUNTERS}: 0 unless given. Compare whole objects, so a stray count fails too. */
export function counters(values: Partial<Counters> = {}): Counters {
  return Object.fromEntries(COUNTERS.map((name) => [name, values[name] ?? 0])) as Counters;
}

/** Ids that sort in the reverse of their index, so an engine ordering by id cannot pass a FIFO test. */
export function descendingIds(count: number, prefix = 'job'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(count - i).padStart(4, '0')}-${randomUUID()}`);
}

/** A job's fields sending it under idempotency key `key` (held `ttlMs` after its final state; null: released there). */
export const keyed = (key: string, ttlMs: number | null = null, more: Partial<NewJob> = {}): Partial<NewJob> => ({
  idempotency: { key, ttlMs },
  ...more,
});

/** An error as a worker would store it, with every optional field set. */
export function sampleError(message = 'connection reset'): ErrorInfo {
  return { type: 'NetworkError', message, stack: `NetworkError: ${message}\n    at send (smtp.ts:10:5)`, code: 'ECONNRESET' };
}

export const ok = (id: string): WriteOutcome => ({ id, ok: true });
export const lost = (id: string, reason: 'stale' | 'revoked' | 'final' | 'missing', terminate = false): WriteOutcome => ({ id, ok: false, reason, terminate });

export const stepLost = (reason: LossReason, terminate = false): StepOutcome => ({ ok: false, reason, terminate });
export const stepOk = (resultJson: string | null): StepOutcome => ({ ok: true, resultJson });

export const complete = (lease: LeaseRef, resultJson: string | null = '{"status":"sent"}', resultTtlMs = HOUR): Settlement => ({
  kind: 'complete',
  id: lease.id,
  token: lease.token,
  resultJson,
  resultTtlMs,
});
export const fail = (lease: LeaseRef, error: ErrorInfo = sampleError()): Settlement => ({ kind: 'fail', id: lease.id, token: lease.token, error });
/** A retry whose next attempt may start `delayMs` after the store records it. */
export const retry = (lease: LeaseRef, delayMs: number, error: ErrorInfo = sampleError()): Settlement => ({
  kind: 'retry',
  id: lease.id,
  token: lease.token,
  error,
  delayMs,
});
export const release = (lease: LeaseRef): Settlement => ({ kind: 'release', id: lease.id, token: lease.token });

/** Ids of a list of jobs, in order. */
export const idsOf = (jobs: readonly { id: string }[]): string[] => jobs.map((j) => j.id);
/** The same ids sorted, for answers whose order the contract leaves open. */
export const sorted = (ids: readonly string[]): string[] => [...ids].sort();
