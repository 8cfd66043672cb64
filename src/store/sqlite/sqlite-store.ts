/**
 * The embedded store: one SQLite file (better-sqlite3, WAL) shared by any number of processes on
 * one machine. Each transition is one `BEGIN IMMEDIATE` transaction, which takes SQLite's single
 * write lock up front, so two processes can never reserve the same job; readers never block.
 *
 * Durability: WAL with `synchronous=NORMAL` (the default here) keeps every committed transition
 * through a process crash (kill -9); after a power loss or OS crash the last few may roll back.
 * `sqlite:./x.db?synchronous=full` fsyncs every commit, surviving power loss, at a cost in speed.
 */
import type Database from 'better-sqlite3';
import {
  COUNTERS, type CallbackJob, type CounterName, type Counters, type EnqueueOptions, type EnqueueResult, type JobRecord, type LeaseRef,
  type ListParams, type NewJob, type ParentInfo, type PoolItem, type PoolLease, type QueueStats, type RecoverResult,
  type ReserveParams, type ReservedJob, type RetryAnswer, type Settlement, type SettleAndReserveResult, type StepOutcome, type StepRecord,
  type Store, type StoreOptions, type TransactionOutcome, type WaitParams, type WorkerInfo, type WriteOutcome,
} from '../store.js';
import * as checks from '../checks.js';
import { expiredError, expiresAtOf, fenceVerdict, revokedError, runAtOf } from '../policy.js';
import { openDatabase } from './database.js';
import { keyHolder } from './dedup.js';
import { retryDeadLetter } from './dead-letter.js';
import { finish, follow, type FinishScope } from './finish.js';
import * as pools from './pools.js';
import { parseParent, toRecord, type JobRow } from '../job-rows.js';
import { prepareStatements, type Statements } from './statements.js';
import { migrate } from './migrate.js';
import * as recovery from './recover.js';
import * as ticks from './schedule-ticks.js';
import * as steps from './steps.js';
import * as views from './views.js';
import { Wakeup } from './wakeup.js';
import * as workers from './workers.js';

const DAY_MS = 86_400_000;

/** Options of the SQLite store, beyond {@link StoreOptions}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** `normal` survives process crashes; `full` also power loss. @default 'normal' */
  synchronous?: 'normal' | 'full';
  /** How long a transition waits for another process's write lock. @default 10000 */
  busyTimeoutMs?: number;
}

/** What a final transition answers (see complete.sql): whether there is anything to fire. */
interface FinalRow {
  id: string;
  quiet: number;
}

interface DueRow {
  seq: number;
  id: string;
  priority: number;
  run_at: number;
  expires_at: number | null;
}

/** The SQLite engine of the {@link Store} contract. */
export class SqliteStore implements Store {
  readonly capabilities;
  readonly description: string;
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #now: () => number;
  readonly #revokedTtlMs: number;
  readonly #wakeup: Wakeup;
  /** One transaction wrapper for every write: `db.transaction()` builds four closures per call. */
  readonly #transaction: Database.Transaction<(fn: () => unknown) => unknown>;

  /** @param path a file path, or `:memory:` (one process only). */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#now = options.clock ?? Date.now;
    this.#revokedTtlMs = options.revokedTtlMs ?? DAY_MS;
    this.#db = openDatabase(path, { synchronous: options.synchronous ?? 'normal', busyTimeoutMs: options.busyTimeoutMs ?? 10_000 });
    const memory = path === ':memory:' || path === '';
    migrate(this.#db);
    this.#sql = prepareStatements(this.#db);
    this.#transaction = this.#db.transaction((fn: () => unknown) => fn());
    this.#wakeup = new Wakeup(memory ? undefined : path);
    this.capabilities = { crossProcessWakeups: this.#wakeup.crossProcess, remoteCalls: false, callerTransactions: false };
    this.description = `sqlite:${path}`;
  }

  /**
   * Run `fn` in a write transaction that takes the lock up front (no lock upgrades, no deadlocks),
   * then wake this process's waiters, unless `quiet` (a write nobody waits for: a waiter woken by
   * another waiter's failed pool acquire would try again at once, forever).
   */
  #write<T>(fn: () => T, quiet = false): T {
    const result = this.#transaction.immediate(fn) as T;
    if (!quiet) this.#wakeup.notify();
    return result;
  }

  async jobsEnqueue(jobs: readonly NewJob[], options?: EnqueueOptions): Promise<EnqueueResult[]> {
    checks.checkNoTransaction(options, this.description);
    checks.checkNewJobs(jobs);
    const now = this.#now();
    return this.#write(() =>
      jobs.map((job) => {
        // An id already stored answers itself, before any key is looked at (a resend is the same send).
        const stored = job.idempotency ? this.#sql.leaseCheck.get({ id: job.id }) !== undefined : false;
        const id = (!stored && job.idempotency && keyHolder(this.#sql, job.idempotency.key, now)) || job.id;
        const created = id === job.id && this.#insert(job, now, { runAt: runAtOf(job, now), expiresAt: expiresAtOf(job, now) });
        if (!created) {
          this.#count('duplicates_suppressed_total');
          follow(this.#finishScope(now), id, job);
        }
        return { id, created };
      }),
    );
  }

  /** Insert a job (inside a transaction); false when its id is already stored. */
  #insert(
    job: CallbackJob & { idempotency?: NewJob['idempotency']; chord?: NewJob['chord'] },
    now: number,
    at: { runAt: number; expiresAt: number | null; parent?: ParentInfo | null; state?: 'PENDING' | 'FAILURE'; error?: string | null },
  ): boolean {
    const failed = at.state === 'FAILURE';
    return this.#sql.enqueue.run({
      id: job.id, task: job.task, queue: job.queue, args: job.argsJson, priority: job.priority, runAt: at.runAt,
      expiresAt: at.expiresAt, now, maxDeliveries: job.maxDeliveries, idemKey: job.idempotency?.key ?? null,
      idemTtl: job.idempotency?.ttlMs ?? null, callbacks: job.callbacks?.length ? JSON.stringify(job.callbacks) : null,
      chord: job.chord ? JSON.stringify(job.chord) : null, parent: at.parent ? JSON.stringify(at.parent) : null,
      state: failed ? 'FAILURE' : 'PENDING', error: at.error ?? null, finishedAt: failed ? now : null,
    }).changes > 0;
  }

  #count(name: CounterName, n = 1): void {
    this.#sql.count.run({ name, n });
  }

  /** Fire the callbacks and chord of a job a transition just made final (when it has any). */
  #finished(row: FinalRow | undefined, now: number): number {
    if (!row) return 0;
    if (row.quiet === 0) finish(this.#finishScope(now), row.id);
    return 1;
  }

  #finishScope(now: number): FinishScope {
    return {
      sql: this.#sql, now,
      count: (name, n) => this.#count(name, n),
      insert: (job, f) => this.#insert(job, now, { runAt: now, expiresAt: null, parent: f.parent, state: f.state, error: f.error && JSON.stringify(f.error) }),
    };
  }

  async jobsReserve(params: ReserveParams): Promise<ReservedJob[]> {
    checks.checkReserve(params);
    const now = this.#now();
    return this.#write(() => this.#take(params, now));
  }

  async jobsSettleAndReserve(params: { settlements: readonly Settlement[]; reserve: ReserveParams | null }): Promise<SettleAndReserveResult> {
    checks.checkSettlements(params.settlements);
    if (params.reserve) checks.checkReserve(params.reserve);
    const now = this.#now();
    return this.#write(() => ({
      outcomes: params.settlements.map((s) => this.#fenced(s.id, s.token, this.#settleOne(s, now))),
      jobs: params.reserve ? this.#take(params.reserve, now) : [],
    }));
  }

  /** Lease up to `limit` due jobs; inside a write transaction. */
  #take(params: ReserveParams, now: number): ReservedJob[] {
    const leaseUntil = now + params.leaseMs;
    const taken: ReservedJob[] = [];
    while (taken.length < params.limit) {
      const due = this.#due(params.queues, now, params.limit - taken.length);
      if (due.length === 0) break;
      for (const row of due) {
        if (row.expires_at !== null && row.expires_at < now) {
          const error = JSON.stringify(expiredError(row.id));
          this.#finished(this.#sql.expire.get({ seq: row.seq, now, error, keepUntil: now + this.#revokedTtlMs }) as FinalRow | undefined, now);
          continue;
        }
        const r = this.#sql.reserveTake.get({ seq: row.seq, worker: params.workerId, now, leaseUntil }) as {
          id: string; task: string; queue: string; args: string; attempt: number; deliveries: number; token: number; enqueued_at: number; parent: string | null;
        };
        taken.push({
          id: r.id, task: r.task, queue: r.queue, argsJson: r.args, attempt: r.attempt, deliveries: r.deliveries,
          token: r.token, enqueuedAt: r.enqueued_at, leaseExpiresAt: leaseUntil, parent: parseParent(r.parent),
        });
      }
    }
    return taken;
  }

  /** Due jobs across queues in reservation order (each queue's query walks its index; merge here). */
  #due(queues: readonly string[], now: number, limit: number): DueRow[] {
    if (queues.length === 1) return this.#sql.reserveDue.all({ queue: queues[0], now, limit }) as DueRow[];
    const rows = queues.flatMap((queue) => this.#sql.reserveDue.all({ queue, now, limit }) as DueRow[]);
    rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq);
    return rows.slice(0, limit);
  }

  async jobsRenew(params: { leases: readonly LeaseRef[]; leaseMs: number }): Promise<WriteOutcome[]> {
    checks.checkRenew(params);
    const leaseUntil = this.#now() + params.leaseMs;
    return this.#write(() =>
      params.leases.map(({ id, token }) =>
        this.#fenced(id, token, this.#sql.renew.run({ id, token, leaseUntil }).changes),
      ),
    );
  }

  async jobsSettle(settlements: readonly Settlement[]): Promise<WriteOutcome[]> {
    checks.checkSettlements(settlements);
    const now = this.#now();
    return this.#write(() => settlements.map((s) => this.#fenced(s.id, s.token, this.#settleOne(s, now))));
  }

  #settleOne(s: Settlement, now: number): number {
    const { id, token } = s;
    switch (s.kind) {
      case 'complete':
        return this.#finished(this.#sql.complete.get({ id, token, result: s.resultJson, now, keepUntil: now + s.resultTtlMs }) as FinalRow | undefined, now);
      case 'fail':
        return this.#finished(this.#sql.fail.get({ id, token, error: JSON.stringify(s.error), now }) as FinalRow | undefined, now);
      case 'retry': {
        const error = JSON.stringify(s.error);
        this.#sql.historyAppend.run({ id, token, now, outcome: 'retry', error });
        return this.#sql.retry.run({ id, token, error, runAt: now + s.delayMs }).changes;
      }
      case 'release':
        this.#sql.historyAppend.run({ id, token, now, outcome: 'released', error: null });
        return this.#sql.release.run({ id, token }).changes;
    }
  }

  /** The outcome of a write fenced by `token`: ok when it changed the row, else why not. */
  #fenced(id: string, token: number, changes: number): WriteOutcome {
    return changes > 0 ? { id, ok: true } : this.#loss(id, token);
  }

  /** Whether `token` holds job `id`'s current lease, else why not (a stale one is counted). */
  #loss(id: string, token: number): WriteOutcome {
    const row = this.#sql.leaseCheck.get({ id }) as Pick<JobRow, 'state' | 'token' | 'terminate'> | undefined;
    const outcome = fenceVerdict(id, token, row && { state: row.state, token: row.token, terminate: row.terminate === 1 });
    if (!outcome.ok && outcome.reason === 'stale') this.#count('stale_writes_refused_total');
    return outcome;
  }

  async jobRevoke(params: { id: string; terminate: boolean; reason?: string }): Promise<'revoked' | 'final' | 'missing'> {
    checks.checkName(params.id, 'id');
    if (params.reason !== undefined) checks.checkText(params.reason, 'reason');
    const now = this.#now();
    const error = JSON.stringify(revokedError(params.reason));
    return this.#write(() => {
      const row = this.#sql.revoke.get({ id: params.id, terminate: params.terminate ? 1 : 0, error, now, keepUntil: now + this.#revokedTtlMs }) as FinalRow | undefined;
      if (this.#finished(row, now) > 0) return 'revoked';
      return this.#sql.leaseCheck.get({ id: params.id }) ? 'final' : 'missing';
    });
  }

  async jobRetry(id: string): Promise<RetryAnswer> {
    checks.checkName(id, 'id');
    const now = this.#now();
    return this.#write(() => retryDeadLetter(this.#sql, id, now));
  }

  async jobsRecoverExpired(): Promise<RecoverResult> {
    const now = this.#now();
    if (recovery.expiredLeases(this.#sql, now).length === 0) return { requeued: [], failed: [] };
    return this.#write(() => recovery.recoverExpired(this.#sql, now, (row) => this.#finished(row, now)));
  }

  async jobsDeleteExpired(): Promise<number> {
    const now = this.#now();
    return this.#write(() => {
      this.#sql.stepsDeleteExpired.run({ now });
      this.#sql.chordsDeleteExpired.run({ now });
      return this.#sql.deleteExpired.run({ now }).changes;
    });
  }

  async jobGet(id: string): Promise<JobRecord | null> {
    const row = this.#sql.get.get({ id }) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  async jobsList(params: ListParams): Promise<JobRecord[]> {
    return views.jobsList(this.#db, params);
  }

  async queuePurge(queue: string): Promise<number> {
    checks.checkQueueName(queue, 'queue');
    return this.#write(() => {
      this.#sql.stepsDeletePurged.run({ queue });
      this.#sql.chordsDeletePurged.run({ queue });
      return this.#sql.purge.run({ queue }).changes;
    });
  }

  async queueStats(): Promise<QueueStats[]> {
    return views.queueStats(this.#sql, this.#now());
  }

  async waitForChange(params: WaitParams): Promise<void> {
    let timeoutMs = params.timeoutMs;
    // End the wait when the next scheduled job of these queues comes due.
    for (const queue of params.queues ?? []) {
      const at = (this.#sql.nextDue.get({ queue }) as { at: number | null }).at;
      if (at !== null) timeoutMs = Math.min(timeoutMs, Math.max(0, at - this.#now()));
    }
    return this.#wakeup.wait(timeoutMs, params.signal);
  }

  async jobStepGet(params: { id: string; token: number; name: string }): Promise<StepOutcome> {
    checks.checkStep(params);
    return this.#write(() => steps.stepGet(this.#stepScope(), params));
  }

  async jobStepPut(params: { id: string; token: number; name: string; resultJson: string }): Promise<StepOutcome> {
    checks.checkStep(params);
    const now = this.#now();
    return this.#write(() => steps.stepPut(this.#stepScope(), params, now));
  }

  async jobCompleteInTransaction<T>(): Promise<TransactionOutcome<T>> {
    throw checks.noCallerTransactions(this.description);
  }

  async jobSteps(id: string): Promise<StepRecord[]> {
    return steps.stepsList(this.#sql, id);
  }

  #stepScope(): steps.StepScope {
    const lease = (id: string, token: number) => {
      const outcome = this.#loss(id, token);
      return outcome.ok ? { ok: true as const } : { ok: false as const, reason: outcome.reason, terminate: outcome.terminate };
    };
    return { sql: this.#sql, lease, count: (name) => this.#count(name) };
  }

  async poolAdd(params: { pool: string; items: readonly string[] }): Promise<number> {
    checks.checkPool(params.pool, params.items);
    return this.#write(() => pools.poolAdd(this.#sql, params.pool, params.items));
  }

  async poolRemove(params: { pool: string; items: readonly string[] }): Promise<number> {
    checks.checkPool(params.pool, params.items);
    return this.#write(() => pools.poolRemove(this.#sql, params.pool, params.items));
  }

  async poolAcquire(params: { pool: string; holder: string; ttlMs: number }): Promise<PoolLease | null> {
    checks.checkPoolAcquire(params);
    const now = this.#now();
    return this.#write(() => pools.poolAcquire(this.#sql, params, now, (name, n) => this.#count(name, n)), true);
  }

  async poolRenew(params: { pool: string; item: string; token: number; ttlMs: number }): Promise<number | null> {
    checks.checkPoolRenew(params);
    const now = this.#now();
    return this.#write(() => pools.poolRenew(this.#sql, params, now));
  }

  async poolRelease(params: { pool: string; item: string; token: number }): Promise<'released' | 'not-held'> {
    checks.checkPoolLease(params);
    return this.#write(() => pools.poolRelease(this.#sql, params, (name, n) => this.#count(name, n)));
  }

  async poolItems(pool: string): Promise<PoolItem[]> {
    return pools.poolItems(this.#sql, pool);
  }

  async poolsReclaimExpired(): Promise<number> {
    const now = this.#now();
    return this.#write(() => pools.poolReclaim(this.#sql, now, (name, n) => this.#count(name, n)));
  }

  async countersGet(): Promise<Counters> {
    const counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Counters;
    for (const { name, value } of this.#sql.counters.all() as { name: CounterName; value: number }[]) {
      if (name in counters) counters[name] = value;
    }
    return counters;
  }

  async jobProgress(params: { id: string; token: number; fraction: number; infoJson: string | null }): Promise<WriteOutcome> {
    checks.checkProgress(params);
    const { id, token } = params;
    const progress = JSON.stringify({ fraction: params.fraction, infoJson: params.infoJson, at: this.#now() });
    // Quiet: nobody waits for progress, and an idle worker woken by it would reserve for nothing.
    return this.#write(() => this.#fenced(id, token, this.#sql.progress.run({ id, token, progress }).changes), true);
  }

  async workersHeartbeat(params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }): Promise<void> {
    checks.checkHeartbeat(params);
    const now = this.#now();
    this.#write(() => workers.workersHeartbeat(this.#sql, params, now), true);
  }

  async workersList(): Promise<WorkerInfo[]> {
    return workers.workersList(this.#sql, this.#now());
  }

  async workerRemove(id: string): Promise<void> {
    this.#write(() => workers.workerRemove(this.#sql, id), true);
  }

  async scheduleTickGet(schedule: string): Promise<number | null> {
    return ticks.scheduleTickGet(this.#sql, schedule);
  }

  async scheduleTickAdvance(params: { schedule: string; tick: number }): Promise<boolean> {
    checks.checkName(params.schedule, 'schedule');
    checks.checkInteger(params.tick, 'tick', 0);
    return this.#write(() => ticks.scheduleTickAdvance(this.#sql, params), true);
  }

  async close(): Promise<void> {
    this.#wakeup.close();
    if (this.#db.open) this.#db.close();
  }
}
