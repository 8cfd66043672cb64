/**
 * The worker: reserves jobs from its queues, runs them with bounded concurrency, renews their
 * leases while they run, settles their outcomes in batches, and shuts down gracefully.
 *
 * Terminology:
 * - slot       one unit of concurrency; a reserved job holds one from reserve to settle.
 * - outbox     outcomes of finished jobs not yet written; flushed in one store transition, so a
 *              burst of short jobs costs one write, not one each.
 * - pool       where handlers run: inline, threads or processes (the Runner seam, runtime/runner.ts).
 * - leases     renewed by the lease keeper where user code cannot block it (lease-keeper.ts), which
 *              also tells of revokes and lost leases and keeps the worker registered.
 * - maintenance  recovery of lapsed leases and the reconcile loops (maintenance.ts).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import type { Conveyor } from '../app.js';
import { toMs, type Duration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { InlineRunner } from '../runtime/inline-runner.js';
import { POOL_KINDS, type PoolKind, type Runner } from '../runtime/runner.js';
import type { Committed, RunningJob } from '../runtime/run-job.js';
import type { LeaseRef, LossReason, ReservedJob, Settlement, Store, WorkerPoolInfo, WriteOutcome } from '../store/store.js';
import { IntervalLoop } from './interval-loop.js';
import { leaseKey, type Leases, type WorkerRecord } from './lease-keeper.js';
import { describeBlock, LoopMonitor, type LoopBlock } from './loop-monitor.js';
import { Maintenance } from './maintenance.js';
import type { WorkerMetrics } from './metrics.js';
import type { WorkerOptions } from './options.js';
import { makeLeases, makeRunner } from './pool-setup.js';

export type { WorkerOptions };


/** The abort reason that ends an idle wait (not an error). */
const IDLE_OVER = Symbol('idle wait over');

/**
 * One delivery in a slot: running, then waiting in the outbox to be settled. A slot is its
 * delivery's (job id and token), never the job's: if this worker is delivered the same job again
 * while the old delivery still runs, each has its own slot, renewed and settled on its own.
 */
interface Slot {
  running: RunningJob;
  /** The handler has ended: its outcome is in the outbox or being written. */
  ended?: boolean;
  /** Released at shutdown: its late outcome must not be written. */
  released: boolean;
  /** Its outcome is being written: no more lease renewals. */
  settling?: boolean;
  /** For the worker registry: the task, and when it started (app clock). */
  task: string;
  startedAt: number;
  /** performance.now() at its start, then its run time in seconds once the handler ended (metrics). */
  began: number;
  seconds?: number;
}

/** A settlement the store accepted, as the worker counts it. */
const OUTCOME_OF = { complete: 'succeeded', fail: 'failed', retry: 'retried', release: 'released' } as const;

/** A worker process's engine. The `conveyor worker` command wraps one. */
export class Worker {
  readonly id: string;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly #app: Conveyor;
  readonly #store: Store;
  readonly pool: PoolKind;
  /** Slots by their delivery (lease key). */
  readonly #slots = new Map<string, Slot>();
  #outbox: { slot: Slot; settlement: Settlement }[] = [];
  readonly #graceMs: number;
  readonly #pollMs: number;
  readonly #runner: Runner;
  readonly #leases: Leases;
  /** Refreshes what the lease keeper registers (the keeper writes it on its own beat). */
  readonly #describe: IntervalLoop;
  readonly #maintenance: Maintenance;
  readonly #monitor: LoopMonitor | undefined;
  #kick: (() => void) | undefined;
  #stopping = false;
  /**
   * Exchanges (settle + reserve round trips) kept in flight: 2 on a store served by another
   * process, so it runs one while this process runs the jobs the other brought back, instead of
   * each waiting for the other; each then reserves at most half the slots, never more than are free.
   */
  readonly #maxInFlight: number;
  /** Exchanges in flight, the slots their settlements free, and the slots reserved jobs will fill. */
  readonly #inFlight = new Set<Promise<void>>();
  #settlingCount = 0;
  #promised = 0;
  /** The last reserve brought fewer jobs than asked: wait for a change before asking again. */
  #storeDry = false;
  #loop: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #prepared: Promise<void> | undefined;
  /** Jobs settled since start, by outcome. */
  readonly counts = { succeeded: 0, failed: 0, retried: 0, released: 0, lost: 0 };
  readonly #metrics: WorkerMetrics | undefined;
  #untrack: (() => void) | undefined;
  /** When start() was called (app clock), for the worker registry. */
  #startedAt = 0;

  constructor(app: Conveyor, options: WorkerOptions = {}) {
    this.#app = app;
    this.#store = app.store;
    this.#maxInFlight = this.#store.capabilities.remoteCalls ? 2 : 1;
    this.logger = options.logger ?? pino({ level: 'info' }, pino.destination(2));
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.queues = options.queues?.length ? [...options.queues] : defaultQueues(app);
    this.concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new InvalidArgumentError(`concurrency must be an integer >= 1, got ${String(options.concurrency)}`);
    }
    this.leaseMs = toMs(options.lease ?? '30s', 'lease');
    if (this.leaseMs < 100) throw new InvalidArgumentError(`lease must be at least 100 ms, got ${this.leaseMs}`);
    this.#graceMs = toMs(options.shutdownGrace ?? '30s', 'shutdownGrace');
    this.#pollMs = toMs(options.pollInterval ?? 1000, 'pollInterval');
    const heartbeatMs = options.heartbeatInterval === undefined ? Math.min(this.leaseMs / 3, 1000) : toMs(options.heartbeatInterval, 'heartbeatInterval');
    const recoveryMs = options.recoveryInterval === undefined ? Math.min(this.leaseMs / 2, 5000) : toMs(options.recoveryInterval, 'recoveryInterval');
    this.#metrics = options.metrics;
    this.#untrack = options.metrics?.track(this);
    this.pool = options.pool ?? 'inline';
    if (!POOL_KINDS.includes(this.pool)) throw new InvalidArgumentError(`pool must be one of ${POOL_KINDS.join(', ')}, got ${JSON.stringify(options.pool)}`);
    const blockedMs = toMs(options.blockedThreshold ?? '1s', 'blockedThreshold');
    this.#runner = makeRunner(app, this, options, (job, at) => this.#monitor?.timed({ id: job.id, task: job.task }, at));
    this.#monitor = this.pool === 'inline' ? new LoopMonitor(blockedMs, () => this.#runningJobs(), (b) => this.#blocked(b)) : undefined;
    this.#leases = makeLeases(app, this, heartbeatMs, {
      lost: (lease, reason, terminate) => this.#lost(lease, reason, terminate),
      warn: (obj, msg) => this.logger.warn(obj, msg),
      error: (obj, msg) => this.logger.error(obj, msg),
    });
    this.#describe = new IntervalLoop('describe', heartbeatMs, async () => this.#leases.describe(this.#record()), this.logger);
    this.#maintenance = new Maintenance(app, recoveryMs, this.logger);
  }

  /** Jobs reserved and not yet settled. */
  get active(): number {
    return this.#slots.size;
  }

  /** Where leases are renewed: `thread` (inline, from the lease thread) or `event loop`. */
  get leasesRenewedFrom(): 'thread' | 'event loop' {
    return this.#leases.where;
  }

  /**
   * Start reserving and running jobs; resolves once leases can be renewed (inline: the lease
   * thread has opened the store) and the pool's children have loaded the app.
   * @throws (rejects) when a child cannot load the app module, or the lease thread fails.
   */
  start(): Promise<void> {
    if (this.#started) return this.#started;
    this.#startedAt = this.#app.now();
    this.#started = this.#prepare().then(() => {
      this.#leases.describe(this.#record());
      this.#leases.start(); // listed at once, not a heartbeat later
      this.#describe.start();
      this.#monitor?.start();
      this.#maintenance.start();
      this.#loop = this.#run().catch((err) => {
        this.logger.fatal({ err }, 'worker loop crashed');
        throw err;
      });
    });
    return this.#started;
  }

  /** The pool's children loaded, the lease thread ready: once, for start() and runOnce(). */
  #prepare(): Promise<void> {
    this.#prepared ??= Promise.all([this.#runner.start(), this.#leases.ready]).then(() => {});
    return this.#prepared;
  }

  /** The pool and its children, as the registry shows them. */
  poolInfo(): WorkerPoolInfo {
    return this.#runner.info();
  }

  /**
   * Graceful shutdown: stop reserving, let running jobs finish within `grace`, then release the
   * rest so another worker takes them at once (their `ctx.signal` is aborted).
   */
  async stop(options: { grace?: Duration } = {}): Promise<void> {
    const graceMs = options.grace === undefined ? this.#graceMs : toMs(options.grace, 'grace');
    this.#stopping = true;
    this.#wake();
    if (this.#busy()) {
      this.logger.info({ running: this.#slots.size, graceMs }, 'warm shutdown: waiting for running jobs');
      const drained = await this.#drain(graceMs);
      if (!drained) await this.#releaseAll();
    }
    await this.#started?.catch(() => {});
    await this.#loop;
    this.#monitor?.stop();
    await this.#describe.stop();
    await this.#leases.stop(); // after its first registration, so the removal comes after it
    await this.#maintenance.stop();
    await this.#runner.stop();
    this.#untrack?.();
    if (this.#startedAt) await this.#store.workerRemove(this.id).catch((err: unknown) => this.logger.warn({ err }, 'could not remove this worker from the registry; it drops out when its heartbeat expires'));
  }

  /** One heartbeat now (for tests): renew leases, and refresh this worker in the registry. */
  async heartbeat(): Promise<void> {
    this.#leases.describe(this.#record());
    try {
      await this.#leases.beat();
    } catch (err) {
      this.logger.error({ err, loop: 'heartbeat' }, 'heartbeat loop tick failed');
    }
  }

  /** One pass without the background loops (for tests): recover, reserve, run all, settle. */
  async runOnce(): Promise<number> {
    await this.#prepare();
    await this.#maintenance.recover();
    const { jobs } = await this.#exchange(true);
    await Promise.all(this.#startAll(jobs));
    await this.#exchange(false);
    return jobs.length;
  }

  async #run(): Promise<void> {
    while (!this.#stopping || this.#busy()) {
      const free = this.#stopping || this.#storeDry ? 0 : this.#free(0);
      if (this.#inFlight.size < this.#maxInFlight && (this.#outbox.length > 0 || free > 0)) {
        const exchange: Promise<void> = this.#launch().finally(() => {
          this.#inFlight.delete(exchange);
          this.#wake();
        });
        this.#inFlight.add(exchange);
        continue;
      }
      // Stopping and the last outcome just written: nobody is left to wake an idle loop.
      if (this.#stopping && !this.#busy()) break;
      // Nothing to send now: sleep until a job ends, an exchange returns, the store changes, or a poll interval passes.
      const waitForStore = this.#storeDry && this.#inFlight.size === 0 && !this.#stopping && this.#free(0) > 0;
      await this.#idle(waitForStore);
      if (waitForStore) this.#storeDry = false;
    }
  }

  /** Jobs held, outcomes to write, exchanges out, or reserved jobs about to start. */
  #busy(): boolean {
    return this.#slots.size > 0 || this.#outbox.length > 0 || this.#inFlight.size > 0 || this.#promised > 0;
  }

  /** Slots a reserve may fill now, counting `settled` outbox entries it settles as free. */
  #free(settled: number): number {
    return this.concurrency - (this.#slots.size - this.#settlingCount - settled) - this.#promised;
  }

  /** One exchange in the background (the loop tracks it in #inFlight and is woken when it returns). */
  async #launch(): Promise<void> {
    // Called before the exchange gives back the slots it promised, so no other exchange counts
    // them as free. With two in flight the jobs run in the next macrotask: the other exchange's
    // request (its jobs ended in this one) is written first, and Redis works on it meanwhile.
    const start = (jobs: ReservedJob[]) => {
      if (this.#maxInFlight === 1) return void this.#startAll(jobs);
      this.#promised += jobs.length;
      setImmediate(() => {
        this.#promised -= jobs.length;
        this.#startAll(jobs);
      });
    };
    const { free, jobs } = await this.#exchange(!this.#stopping, Math.ceil(this.concurrency / this.#maxInFlight), start);
    if (free > 0 && jobs.length < free) this.#storeDry = true;
  }

  /** Hold the jobs' leases (before any handler can block this loop), then start each. */
  #startAll(jobs: ReservedJob[]): Promise<void>[] {
    this.#leases.hold(jobs);
    return jobs.map((job) => this.#start(job));
  }

  async #start(job: ReservedJob): Promise<void> {
    const key = leaseKey(job);
    const slot: Slot = { running: undefined!, released: false, task: job.task, startedAt: this.#app.now(), began: this.#metrics ? performance.now() : 0 };
    this.#slots.set(key, slot);
    slot.running = this.#runner.run(job);
    const settlement = await slot.running.settlement;
    slot.ended = true;
    if (this.#metrics) slot.seconds = (performance.now() - slot.began) / 1000;
    if (settlement === null) this.#abandon(key, slot);
    else if (settlement.kind === 'committed') this.#committed(key, slot, settlement);
    else if (!slot.released) this.#outbox.push({ slot, settlement });
    this.#wake();
  }

  /** Nothing to write for a delivery (its child died, or was stopped by a revoke): its lease lapses. */
  #abandon(key: string, slot: Slot): void {
    this.#slots.delete(key);
    this.#leases.drop([slot.running.lease]);
    this.counts.lost++;
    this.#metrics?.jobSettled(slot.task, 'lost', slot.seconds ?? null, 'stale');
  }

  /** The handler's transaction wrote the job's success (ctx.transaction): nothing left to write. */
  #committed(key: string, slot: Slot, ending: Committed): void {
    if (slot.released) return; // released at shutdown meanwhile: that write was refused, the job is final
    this.#slots.delete(key);
    this.#leases.drop([slot.running.lease]);
    slot.running.settled({ id: ending.id, ok: true }, ending, this.counts);
    this.#metrics?.jobSettled(slot.task, 'succeeded', slot.seconds ?? null);
  }

  #lost(lease: LeaseRef, reason: LossReason, terminate: boolean): void {
    const slot = this.#slots.get(leaseKey(lease));
    if (slot && !slot.released && !slot.settling) slot.running.lost(reason, terminate);
  }

  #runningJobs(): { id: string; task: string }[] {
    return [...this.#slots.values()].filter((s) => !s.ended).map((s) => ({ id: s.running.lease.id, task: s.task }));
  }

  #blocked(block: LoopBlock): void {
    const inline = this.#runner as InlineRunner;
    inline.blocked.count++;
    inline.blocked.seconds += block.ms / 1000;
    const { obj, msg, task } = describeBlock(block, this.#leases.where);
    this.logger.warn(obj, msg);
    this.#metrics?.loopBlocked(task, block.ms / 1000);
  }

  /**
   * Write the outbox and, when `reserve`, reserve jobs for the slots that frees, in one
   * transition: a burst of short jobs costs one commit per batch, not two.
   */
  async #exchange(reserve: boolean, maxReserve = this.concurrency, start?: (jobs: ReservedJob[]) => void): Promise<{ free: number; jobs: ReservedJob[] }> {
    // Let jobs finishing in this same turn join the batch.
    if (this.#outbox.length > 0 && this.#slots.size - this.#settlingCount > this.#outbox.length) await nextTurn();
    const batch = this.#outbox;
    this.#outbox = [];
    for (const b of batch) b.slot.settling = true;
    if (batch.length) this.#leases.drop(batch.map((b) => b.slot.running.lease));
    // Settling the batch frees its slots.
    const free = reserve ? Math.max(0, Math.min(maxReserve, this.#free(batch.length))) : 0;
    if (batch.length === 0 && free <= 0) return { free: 0, jobs: [] };
    const params = free > 0 ? { queues: this.queues, workerId: this.id, limit: free, leaseMs: this.leaseMs } : null;
    this.#settlingCount += batch.length;
    this.#promised += free;
    try {
      if (batch.length === 0) {
        const jobs = await this.#store.jobsReserve(params!);
        start?.(jobs);
        return { free, jobs };
      }
      const { outcomes, jobs } = await this.#store.jobsSettleAndReserve({ settlements: batch.map((b) => b.settlement), reserve: params });
      this.#settled(batch, outcomes);
      start?.(jobs);
      return { free, jobs };
    } catch (err) {
      // Keep the outcomes and try again after a pause; the leases are still renewed meanwhile.
      this.logger.error({ err, count: batch.length }, 'store write failed; retrying after a pause');
      for (const b of batch) b.slot.settling = false;
      this.#leases.hold(batch.map((b) => b.slot.running.lease));
      this.#outbox.unshift(...batch);
      await new Promise((r) => setTimeout(r, Math.min(this.#pollMs, 1000)));
      return { free: 0, jobs: [] };
    } finally {
      this.#settlingCount -= batch.length;
      this.#promised -= free;
    }
  }

  #settled(batch: { slot: Slot; settlement: Settlement }[], outcomes: WriteOutcome[]): void {
    batch.forEach(({ slot, settlement }, i) => {
      this.#slots.delete(leaseKey(slot.running.lease));
      slot.running.settled(outcomes[i]!, settlement, this.counts);
      if (this.#metrics) {
        const o = outcomes[i]!;
        this.#metrics.jobSettled(slot.task, o.ok ? OUTCOME_OF[settlement.kind] : 'lost', slot.seconds ?? null, o.ok ? undefined : o.reason);
      }
    });
  }

  #idle(storeMayHaveWork: boolean): Promise<void> {
    const kicked = new Promise<void>((resolve) => (this.#kick = resolve));
    if (!storeMayHaveWork) return kicked.finally(() => (this.#kick = undefined));
    const abort = new AbortController();
    // A store that cannot be reached cannot say when it changes: wait out the poll interval (the
    // next exchange reports the outage), never end the loop.
    const changed = this.#store.waitForChange({ timeoutMs: this.#pollMs, queues: this.queues, signal: abort.signal })
      .catch(() => new Promise<void>((resolve) => setTimeout(resolve, this.#pollMs).unref()));
    return Promise.race([kicked, changed]).finally(() => {
      // A reason of our own: abort() without one builds a DOMException with a stack trace, every idle turn.
      abort.abort(IDLE_OVER);
      this.#kick = undefined;
    });
  }

  #wake(): void {
    this.#kick?.();
  }

  /** What the registry shows of this worker. */
  #record(): WorkerRecord {
    const active = [...this.#slots.values()].map((s) => ({ id: s.running.lease.id, task: s.task, startedAt: s.startedAt }));
    return {
      id: this.id, hostname: hostname(), pid: process.pid, queues: [...this.queues], concurrency: this.concurrency,
      startedAt: this.#startedAt, active, counts: { ...this.counts }, pool: this.#runner.info(),
    };
  }

  /** Wait until every slot is settled (the loop then ends), or `graceMs` passes; true when drained. */
  async #drain(graceMs: number): Promise<boolean> {
    if (!this.#loop) return this.#slots.size === 0;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<false>((resolve) => (timer = setTimeout(resolve, graceMs, false)));
    const drained = await Promise.race([this.#loop.then(() => true), graceOver]);
    clearTimeout(timer);
    return drained;
  }

  async #releaseAll(): Promise<void> {
    this.logger.warn('shutdown grace period over: releasing the jobs still running');
    // An exchange still out may bring jobs back: let them land in their slots, so they are released too.
    await Promise.all(this.#inFlight);
    if (this.#promised > 0) await nextTurn(); // their jobs start in the next macrotask
    // Only handlers still running: an ended one's outcome is in the outbox or being written by an
    // exchange launched meanwhile, and the loop settles it (releasing it too would race that write).
    const slots = [...this.#slots.values()].filter((s) => !s.ended);
    for (const slot of slots) {
      slot.released = true;
      slot.running.abort('shutdown');
    }
    this.#leases.drop(slots.map((s) => s.running.lease));
    const settlements: Settlement[] = slots.map((s) => ({ kind: 'release', ...s.running.lease }));
    const outcomes = await this.#store.jobsSettle(settlements);
    for (const slot of slots) this.#slots.delete(leaseKey(slot.running.lease));
    this.counts.released += outcomes.filter((o) => o.ok).length;
    slots.forEach((s, i) => {
      const o = outcomes[i]!;
      this.#metrics?.jobSettled(s.task, o.ok ? 'released' : 'lost', null, o.ok ? undefined : o.reason);
    });
    this.logger.warn({ jobs: slots.map((s) => s.running.lease.id) }, `released ${slots.length} unfinished job(s) for another worker`);
    this.#wake();
  }
}

/** The app's default queue and every queue its tasks send to. */
export function defaultQueues(app: Conveyor): string[] {
  const queues = new Set<string>([app.defaultQueue]);
  for (const task of app.tasks.values()) queues.add(task.options.job.queue);
  return [...queues];
}
