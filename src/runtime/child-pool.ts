/**
 * The thread and process pools: `size` children, each running one job at a time, supervised
 * like Celery's prefork pool. The supervisor (this module, on the worker's event loop) hands a
 * job to a free child, makes the child's step and progress writes, stops a child past the job's
 * hard time limit, and replaces a child that crashed, exited, ran out of memory, or reached
 * `maxTasksPerChild` / `maxMemoryPerChildMb`.
 *
 * A child that dies running a job loses that delivery only: nothing is written for it, its lease
 * lapses, and the job is delivered again (per `maxDeliveries`, then WorkerLostError) — the same
 * path as a worker killed with kill -9. A time limit fails the attempt with
 * TimeLimitExceededError (retry rules apply); a revoke with `terminate` just stops the child.
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import { errorInfo, RevokedError, TimeLimitExceededError } from '../errors.js';
import type { LossReason, PoolChildInfo, ReservedJob, Settlement, WorkerPoolInfo, WriteOutcome } from '../store/store.js';
import { spawnChild, type ChildHandle } from './child-handle.js';
import type { ChildInit, FromChild, ToChild } from './child-protocol.js';
import { failureSettlement } from './outcome.js';
import type { Runner } from './runner.js';
import { errorFromInfo, reportSettled, runFailureHook, type Ending, type JobIo, type RunningJob, type SettleCounts } from './run-job.js';

export interface ChildPoolOptions {
  kind: 'threads' | 'processes';
  /** Children (the worker's concurrency). */
  size: number;
  /** What each child is started with: the app module to load, the store, the log level. */
  init: Omit<ChildInit, 'parentPid'>;
  /** Where children's step and progress writes go (the worker's store). */
  io: JobIo;
  logger: Logger;
  /** Replace a child after this many jobs. @default no limit */
  maxTasksPerChild?: number;
  /** Replace a child whose memory after a job is above this many MB. @default no limit */
  maxMemoryPerChildMb?: number;
}

interface Child {
  slot: number;
  handle: ChildHandle;
  ready: boolean;
  job: ChildJob | undefined;
  jobs: number;
  memoryMb: number;
  /** Told to exit when idle (recycled, or the pool stops): its exit is no crash. */
  retiring: boolean;
  /** Stopped by the supervisor (time limit, revoke): replaced without a word more. */
  terminated: boolean;
}

/** Shortest pause before a child that could not load the app is started again. */
const RESPAWN_PAUSE_MS = 1000;

export class ChildPool implements Runner {
  readonly kind: 'threads' | 'processes';
  readonly #app: Conveyor;
  readonly #options: ChildPoolOptions;
  readonly #logger: Logger;
  readonly #children = new Set<Child>();
  readonly #waiting: ChildJob[] = [];
  #recycled = 0;
  #crashed = 0;
  #stopping = false;
  /** The first start: each child's readiness, or why it could not load the app. */
  #starting: { resolve(): void; reject(err: Error): void; left: number } | undefined;

  constructor(app: Conveyor, options: ChildPoolOptions) {
    this.kind = options.kind;
    this.#app = app;
    this.#options = options;
    this.#logger = options.logger;
  }

  async start(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.#starting = { resolve, reject, left: this.#options.size };
        for (let slot = 1; slot <= this.#options.size; slot++) this.#spawn(slot);
      });
    } catch (err) {
      await this.stop(); // the children that did load must not keep the process alive
      throw err;
    } finally {
      this.#starting = undefined;
    }
  }

  run(job: ReservedJob): RunningJob {
    const running = new ChildJob(this, job, this.#logger, this.#app);
    this.#waiting.push(running);
    this.#dispatch();
    return running;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#children].map((child) => new Promise<void>((resolve) => {
      child.handle.onExit(() => resolve());
      child.retiring = true;
      child.handle.post({ t: 'exit' });
      // A child still busy with a released job, or stuck: stopped after a moment.
      setTimeout(() => child.handle.kill(), child.job ? 0 : 2000).unref();
    }));
    await Promise.all(exits);
  }

  info(): WorkerPoolInfo {
    const children: PoolChildInfo[] = [...this.#children].filter((c) => !c.retiring && !c.terminated).sort((a, b) => a.slot - b.slot).map((c) => ({
      slot: c.slot, pid: c.handle.pid, job: c.job ? { id: c.job.job.id, task: c.job.job.task } : null, jobs: c.jobs, memoryMb: c.memoryMb,
    }));
    return { kind: this.kind, children, recycled: this.#recycled, crashed: this.#crashed };
  }

  /** What one child is, in log lines. */
  get #unit(): string {
    return this.kind === 'threads' ? 'thread' : 'process';
  }

  /** Send a message to the child running `job`, if one does. */
  tell(job: ChildJob, message: ToChild): void {
    job.child?.handle.post(message);
  }

  /** Stop the child running `job` now, and end the job with `settlement` (null: nothing to write). */
  terminate(job: ChildJob, settlement: Ending | null, why: string): void {
    const child = job.child;
    job.finish(settlement);
    if (!child) return;
    this.#crashed++;
    this.#logger.warn({ job: job.job.id, child: child.handle.pid }, `Task ${job.label} stopped (${why}): ${this.#unit} ${child.handle.pid} terminated; a fresh one replaces it`);
    child.job = undefined;
    child.terminated = true;
    child.handle.kill();
  }

  #spawn(slot: number): void {
    const handle = spawnChild(this.kind, { ...this.#options.init, parentPid: process.pid });
    const child: Child = { slot, handle, ready: false, job: undefined, jobs: 0, memoryMb: 0, retiring: false, terminated: false };
    this.#children.add(child);
    handle.onMessage((m) => this.#onMessage(child, m));
    handle.onExit((how) => this.#onExit(child, how));
  }

  #onMessage(child: Child, m: FromChild): void {
    if (m.t === 'ready') {
      child.ready = true;
      if (this.#starting && --this.#starting.left === 0) this.#starting.resolve();
      this.#dispatch();
    } else if (m.t === 'failed') {
      const err = errorFromInfo(m.error);
      if (this.#starting && !child.ready) this.#starting.reject(err);
      else this.#logger.error({ err }, `a ${this.#unit} of the pool could not load the app; trying again in ${RESPAWN_PAUSE_MS} ms`);
    } else if (m.t === 'log') {
      this.#relayLog(m.line);
    } else if (m.t === 'call') {
      const io = this.#options.io;
      (io[m.op] as (p: unknown) => Promise<unknown>).call(io, m.params).then(
        (value) => child.handle.post({ t: 'reply', n: m.n, ok: true, value }),
        (err: unknown) => child.handle.post({ t: 'reply', n: m.n, ok: false, error: errorInfo(err) }),
      );
    } else if (m.t === 'done') {
      const job = child.job;
      if (!job || job.job.id !== m.id || job.job.token !== m.token) return; // terminated meanwhile
      child.job = undefined;
      child.jobs++;
      child.memoryMb = m.memoryMb;
      job.finish(m.settlement);
      this.#recycleIfDue(child);
      this.#dispatch();
    }
  }

  #recycleIfDue(child: Child): void {
    const { maxTasksPerChild, maxMemoryPerChildMb } = this.#options;
    const why = maxTasksPerChild !== undefined && child.jobs >= maxTasksPerChild ? `it ran ${child.jobs} job(s) (max tasks per child ${maxTasksPerChild})`
      : maxMemoryPerChildMb !== undefined && child.memoryMb > maxMemoryPerChildMb ? `it uses ${child.memoryMb} MB (max memory per child ${maxMemoryPerChildMb} MB)` : undefined;
    if (!why || this.#stopping) return;
    this.#logger.info({ child: child.handle.pid }, `replacing child ${child.slot} (${child.handle.pid}): ${why}`);
    this.#recycled++;
    child.retiring = true;
    child.handle.post({ t: 'exit' });
    this.#spawn(child.slot);
  }

  #onExit(child: Child, how: { code: number | null; signal: string | null; error?: Error }): void {
    this.#children.delete(child);
    const job = child.job;
    child.job = undefined;
    if (this.#starting && !child.ready) {
      this.#starting.reject(how.error ?? new Error(`a child of the ${this.kind} pool exited (${exitText(how)}) before it had loaded the app`));
    }
    if (job) {
      this.#crashed++;
      this.#logger.error({ job: job.job.id, child: child.handle.pid, err: how.error }, `Task ${job.label}: its ${this.#unit} ${child.handle.pid} died (${exitText(how)}); this delivery is lost and the job runs again when its lease lapses (it was delivery ${job.job.deliveries} of this attempt; past the job's maxDeliveries it fails with WorkerLostError)`);
      job.finish(null);
    }
    if (this.#stopping || child.retiring) return;
    if (!job && !child.terminated) this.#logger.warn({ child: child.handle.pid }, `child ${child.slot} (${child.handle.pid}) exited while idle (${exitText(how)}); replacing it`);
    const pause = child.ready ? 0 : RESPAWN_PAUSE_MS;
    setTimeout(() => {
      if (!this.#stopping) this.#spawn(child.slot);
    }, pause); // not unref()ed: the replacement is what keeps a pool worker alive
  }

  #dispatch(): void {
    for (const child of this.#children) {
      if (this.#waiting.length === 0) return;
      if (!child.ready || child.job || child.retiring || child.terminated) continue;
      const job = this.#waiting.shift()!;
      if (job.ended) continue;
      child.job = job;
      job.begin(child, this.#app.tasks.get(job.job.task)?.options.timeLimitMs);
      child.handle.post({ t: 'run', job: job.job });
    }
  }

  /** A child's log record, written by the supervisor's logger at the record's level. */
  #relayLog(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, msg, time: _t, pid: _p, hostname: _h, ...rest } = record;
    const name = this.#logger.levels.labels[Number(level)] as 'info' | undefined;
    (this.#logger[name ?? 'info'] ?? this.#logger.info).call(this.#logger, rest, String(msg ?? ''));
  }
}

function exitText(how: { code: number | null; signal: string | null; error?: Error }): string {
  if (how.error) return `${how.error.name}: ${how.error.message}`;
  return how.signal ? `killed by ${how.signal}` : `exit code ${how.code}`;
}

/** A job handed to the pool: waiting for a child, then running in one. */
class ChildJob implements RunningJob {
  readonly job: ReservedJob;
  readonly lease: { id: string; token: number };
  readonly settlement: Promise<Ending | null>;
  readonly label: string;
  child: Child | undefined;
  ended = false;
  readonly #pool: ChildPool;
  readonly #logger: Logger;
  readonly #app: Conveyor;
  #resolve!: (s: Ending | null) => void;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = performance.now();
  #lossLogged = false;

  constructor(pool: ChildPool, job: ReservedJob, logger: Logger, app: Conveyor) {
    this.#pool = pool;
    this.job = job;
    this.lease = { id: job.id, token: job.token };
    this.label = `${job.task}[${job.id}]`;
    this.#logger = logger;
    this.#app = app;
    this.settlement = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Handed to `child`; past `limitMs` the child is stopped and the attempt fails. */
  begin(child: Child, limitMs: number | undefined): void {
    this.child = child;
    this.#startedAt = performance.now();
    if (limitMs === undefined) return;
    this.#timer = setTimeout(() => {
      const task = this.#app.tasks.get(this.job.task);
      this.#pool.terminate(this, failureSettlement(this.job, task?.options, new TimeLimitExceededError(limitMs)), `time limit of ${limitMs} ms`);
    }, limitMs);
  }

  finish(settlement: Ending | null): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.#timer);
    this.child = undefined;
    this.#resolve(settlement);
  }

  abort(): void {
    this.#pool.tell(this, { t: 'abort', id: this.job.id, token: this.job.token, why: { kind: 'shutdown' } });
  }

  lost(reason: LossReason, terminate: boolean): void {
    if (this.ended) return;
    // 'final' with this delivery's token may be its own success, committed by ctx.transaction in
    // the child: the child, which knows, logs it when it is a loss.
    if (!this.#lossLogged && reason !== 'final') this.#logger.warn({ job: this.job.id, token: this.job.token, reason }, `Task ${this.label} lost its lease (${reason}); its outcome will be discarded`);
    this.#lossLogged = true;
    if (reason === 'revoked' && terminate) {
      if (this.child) this.#pool.terminate(this, null, new RevokedError(this.job.id).message);
      else this.finish(null); // not started yet: it never will
      return;
    }
    this.#pool.tell(this, { t: 'abort', id: this.job.id, token: this.job.token, why: { kind: 'lost', reason, terminate } });
  }

  settled(outcome: WriteOutcome, s: Ending, counts: SettleCounts): void {
    const failed = reportSettled(this.#logger, this.job, outcome, s, counts, (performance.now() - this.#startedAt) / 1000, this.#lossLogged);
    if (failed && s.kind === 'fail') {
      // The hook runs here, in the supervisor, with the error as it crossed: its type, message and stack.
      void runFailureHook(this.#app.tasks.get(this.job.task), this.job, JSON.parse(this.job.argsJson) as unknown[], errorFromInfo(s.error), this.#logger);
    }
  }
}
