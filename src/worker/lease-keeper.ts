/**
 * The lease keeper: renews the leases a worker holds, and refreshes the worker's registration,
 * on a timer of its own. It must run where user code cannot block it (DESIGN: "a lease belongs to
 * a live process"): on a thread of its own beside an inline pool (`lease-thread.ts`), on the
 * supervisor's event loop beside a thread or process pool, whose handlers run elsewhere.
 *
 * Terminology:
 * - hold      start renewing a delivery's lease (before its handler runs).
 * - drop      stop renewing it (its outcome is being written, or it was given up).
 * - describe  the registration to write on the next beat (who the worker is, what it runs).
 */
import type { LeaseRef, LossReason, Store, WorkerInfo } from '../store/store.js';
import { IntervalLoop } from './interval-loop.js';

/** A worker's registration as it writes it (the store sets `lastSeenAt`). */
export type WorkerRecord = Omit<WorkerInfo, 'lastSeenAt'>;

/** What the keeper tells the worker. */
export interface LeaseEvents {
  /** The store refused a renewal: the delivery's lease is gone (revoked, replaced, final). */
  lost(lease: LeaseRef, reason: LossReason, terminate: boolean): void;
  /** Something for the worker's log. */
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The worker's side of a keeper, wherever it runs. */
export interface Leases {
  /** Where renewals run: `thread` (a thread of their own) or `event loop` (this one). */
  readonly where: 'thread' | 'event loop';
  /** Resolves once leases can be renewed. */
  readonly ready: Promise<void>;
  hold(leases: readonly LeaseRef[]): void;
  drop(leases: readonly LeaseRef[]): void;
  describe(worker: WorkerRecord): void;
  /** Register at once, then beat every interval. */
  start(): void;
  /** One beat now: renew and register (for tests and `worker.heartbeat()`). */
  beat(): Promise<void>;
  /** Stop beating and wait for a beat under way. */
  stop(): Promise<void>;
}

export interface LeaseKeeperOptions {
  leaseMs: number;
  heartbeatMs: number;
  /** How long the registration lasts without a beat. */
  registryTtlMs: number;
  /**
   * Also renew the jobs the store says `workerId` runs in `queues`, on beats when `when()` is
   * true (the lease thread: while the worker's loop is blocked it cannot hand over the leases of
   * jobs reserved meanwhile).
   */
  discover?: { workerId: string; queues: readonly string[]; when(): boolean };
  /** Called first thing in each renewal (the lease thread reads the worker's log of holds and drops). */
  beforeRenew?: () => void;
}

/** Running jobs read per page when looking for a blocked worker's leases. */
const DISCOVER_PAGE = 1000;

export const leaseKey = (lease: LeaseRef): string => `${lease.id}\0${lease.token}`;

/** Renews held leases and writes the registration, each beat, side by side. */
export class LeaseKeeper implements Leases {
  readonly where = 'event loop' as const;
  readonly ready = Promise.resolve();
  readonly #store: Pick<Store, 'jobsRenew' | 'workersHeartbeat' | 'jobsList'>;
  readonly #options: LeaseKeeperOptions;
  readonly #events: LeaseEvents;
  readonly #held = new Map<string, LeaseRef>();
  /**
   * Leases held because the store listed them while the worker's loop was blocked, which the
   * worker has not held itself since. Dropped once its loop runs again: one the worker does not
   * hold then is not its delivery (a job left by an earlier process with the same worker id).
   */
  readonly #discovered = new Set<string>();
  readonly #loop: IntervalLoop;
  #worker: WorkerRecord | undefined;
  #registryFailing = false;
  #first: Promise<void> | undefined;

  constructor(store: Pick<Store, 'jobsRenew' | 'workersHeartbeat' | 'jobsList'>, options: LeaseKeeperOptions, events: LeaseEvents) {
    this.#store = store;
    this.#options = options;
    this.#events = events;
    this.#loop = new IntervalLoop('heartbeat', options.heartbeatMs, () => this.beat(), events);
  }

  hold(leases: readonly LeaseRef[]): void {
    for (const lease of leases) {
      const key = leaseKey(lease);
      this.#held.set(key, lease);
      this.#discovered.delete(key);
    }
  }

  drop(leases: readonly LeaseRef[]): void {
    for (const lease of leases) this.#held.delete(leaseKey(lease));
  }

  describe(worker: WorkerRecord): void {
    this.#worker = worker;
  }

  start(): void {
    this.#first = this.#register(); // listed at once, not a heartbeat later
    this.#loop.start();
  }

  async beat(): Promise<void> {
    await Promise.all([this.#renew(), this.#register()]);
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#first;
  }

  async #renew(): Promise<void> {
    this.#options.beforeRenew?.();
    const discover = this.#options.discover;
    if (discover?.when()) await this.#discover(discover);
    else if (this.#discovered.size) {
      for (const key of this.#discovered) this.#held.delete(key);
      this.#discovered.clear();
    }
    const leases = [...this.#held.values()];
    if (leases.length === 0) return;
    const outcomes = await this.#store.jobsRenew({ leases, leaseMs: this.#options.leaseMs });
    outcomes.forEach((o, i) => {
      if (o.ok) return;
      const lease = leases[i]!;
      this.#held.delete(leaseKey(lease)); // renewing a lost lease again would only be refused again
      this.#events.lost(lease, o.reason, o.terminate);
    });
  }

  /** Hold the leases of the running jobs the store says this worker holds. */
  async #discover({ workerId, queues }: NonNullable<LeaseKeeperOptions['discover']>): Promise<void> {
    for (const queue of queues) {
      for (let offset = 0; ; offset += DISCOVER_PAGE) {
        const page = await this.#store.jobsList({ states: ['STARTED'], queue, limit: DISCOVER_PAGE, offset });
        for (const job of page) {
          const key = leaseKey(job);
          if (job.worker !== workerId || this.#held.has(key)) continue;
          this.#held.set(key, { id: job.id, token: job.token });
          this.#discovered.add(key);
        }
        if (page.length < DISCOVER_PAGE) break;
      }
    }
  }

  /** Write the registration (a one-row upsert; its TTL lets a dead worker drop out). */
  async #register(): Promise<void> {
    if (!this.#worker) return;
    try {
      await this.#store.workersHeartbeat({ worker: this.#worker, ttlMs: this.#options.registryTtlMs });
      this.#registryFailing = false;
    } catch (err) {
      // Logged once per failing spell: the registry is for people, leases matter more.
      if (!this.#registryFailing) this.#events.warn({ err }, 'could not refresh this worker in the registry; retrying every heartbeat');
      this.#registryFailing = true;
    }
  }
}
