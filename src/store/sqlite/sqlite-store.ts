/**
 * The embedded store: one SQLite file (better-sqlite3, WAL) shared by any number of processes on
 * one machine. Each transition is one `BEGIN IMMEDIATE` transaction, which takes SQLite's single
 * write lock up front, so two processes can never reserve the same job; readers never block.
 *
 * Durability: WAL with `synchronous=NORMAL` (the default here) keeps every committed transition
 * through a process crash (kill -9); after a power loss or OS crash the last few may roll back.
 * `sqlite:./x.db?synchronous=full` fsyncs every commit, surviving power loss, at a cost in speed.
 */
import Database from 'better-sqlite3';
import { errorInfo, InvalidArgumentError, WorkerLostError } from '../../errors.js';
import { JOB_STATES } from '../../states.js';
import type {
  EnqueueResult, JobRecord, LeaseRef, ListParams, NewJob, QueueStats, RecoverResult, ReserveParams,
  ReservedJob, Settlement, SettleAndReserveResult, Store, StoreOptions, WaitParams, WriteOutcome,
} from '../store.js';
import { toRecord, type JobRow } from './rows.js';
import { prepareStatements, type Statements } from './statements.js';
import { migrate } from './migrate.js';
import { Wakeup } from './wakeup.js';

const DAY_MS = 86_400_000;

/** Options of the SQLite store, beyond {@link StoreOptions}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** `normal` survives process crashes; `full` also power loss. @default 'normal' */
  synchronous?: 'normal' | 'full';
  /** How long a transition waits for another process's write lock. @default 10000 */
  busyTimeoutMs?: number;
}

interface DueRow {
  seq: number;
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
    this.#db = new Database(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    const memory = path === ':memory:' || path === '';
    if (!memory) this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(this.#db);
    this.#sql = prepareStatements(this.#db);
    this.#transaction = this.#db.transaction((fn: () => unknown) => fn());
    this.#wakeup = new Wakeup(memory ? undefined : path);
    this.capabilities = { crossProcessWakeups: this.#wakeup.crossProcess, remoteCalls: false };
    this.description = `sqlite:${path}`;
  }

  /** Run `fn` in a write transaction that takes the lock up front (no lock upgrades, no deadlocks). */
  #write<T>(fn: () => T): T {
    const result = this.#transaction.immediate(fn) as T;
    this.#wakeup.notify();
    return result;
  }

  async jobsEnqueue(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const now = this.#now();
    return this.#write(() =>
      jobs.map((job) => {
        const { changes } = this.#sql.enqueue.run({
          id: job.id, task: job.task, queue: job.queue, args: job.argsJson, priority: job.priority,
          runAt: job.runAt, expiresAt: job.expiresAt, now, maxDeliveries: job.maxDeliveries,
        });
        return { id: job.id, created: changes > 0 };
      }),
    );
  }

  async jobsReserve(params: ReserveParams): Promise<ReservedJob[]> {
    const now = this.#now();
    return this.#write(() => this.#take(params, now));
  }

  async jobsSettleAndReserve(params: { settlements: readonly Settlement[]; reserve: ReserveParams | null }): Promise<SettleAndReserveResult> {
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
          const error = JSON.stringify({ type: 'Expired', message: `expired at ${new Date(row.expires_at).toISOString()} before it could start` });
          this.#sql.expire.run({ seq: row.seq, now, error, keepUntil: now + this.#revokedTtlMs });
          continue;
        }
        const r = this.#sql.reserveTake.get({ seq: row.seq, worker: params.workerId, now, leaseUntil }) as {
          id: string; task: string; queue: string; args: string; attempt: number; deliveries: number; token: number; enqueued_at: number;
        };
        taken.push({
          id: r.id, task: r.task, queue: r.queue, argsJson: r.args, attempt: r.attempt, deliveries: r.deliveries,
          token: r.token, enqueuedAt: r.enqueued_at, leaseExpiresAt: leaseUntil,
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
    const leaseUntil = this.#now() + params.leaseMs;
    return this.#write(() =>
      params.leases.map(({ id, token }) =>
        this.#fenced(id, token, this.#sql.renew.run({ id, token, leaseUntil }).changes),
      ),
    );
  }

  async jobsSettle(settlements: readonly Settlement[]): Promise<WriteOutcome[]> {
    const now = this.#now();
    return this.#write(() => settlements.map((s) => this.#fenced(s.id, s.token, this.#settleOne(s, now))));
  }

  #settleOne(s: Settlement, now: number): number {
    const { id, token } = s;
    switch (s.kind) {
      case 'complete':
        return this.#sql.complete.run({ id, token, result: s.resultJson, now, keepUntil: now + s.resultTtlMs }).changes;
      case 'fail':
        return this.#sql.fail.run({ id, token, error: JSON.stringify(s.error), now }).changes;
      case 'retry':
        return this.#sql.retry.run({ id, token, error: JSON.stringify(s.error), runAt: s.runAt }).changes;
      case 'release':
        return this.#sql.release.run({ id, token }).changes;
    }
  }

  /** The outcome of a write fenced by `token`: ok when it changed the row, else why not. */
  #fenced(id: string, token: number, changes: number): WriteOutcome {
    if (changes > 0) return { id, ok: true };
    const row = this.#sql.leaseCheck.get({ id }) as Pick<JobRow, 'state' | 'token' | 'terminate'> | undefined;
    if (!row) return { id, ok: false, reason: 'missing', terminate: false };
    if (row.token === token && row.state === 'REVOKED') return { id, ok: false, reason: 'revoked', terminate: row.terminate === 1 };
    // A newer delivery, or a lapsed lease put back in line: either way this writer is stale.
    if (row.token !== token || row.state === 'PENDING' || row.state === 'RETRY') return { id, ok: false, reason: 'stale', terminate: false };
    return { id, ok: false, reason: 'final', terminate: false };
  }

  async jobRevoke(params: { id: string; terminate: boolean; reason?: string }): Promise<'revoked' | 'final' | 'missing'> {
    const now = this.#now();
    const error = JSON.stringify({ type: 'RevokedError', message: params.reason ?? 'revoked' });
    return this.#write(() => {
      const changes = this.#sql.revoke.run({ id: params.id, terminate: params.terminate ? 1 : 0, error, now, keepUntil: now + this.#revokedTtlMs }).changes;
      if (changes > 0) return 'revoked';
      return this.#sql.leaseCheck.get({ id: params.id }) ? 'final' : 'missing';
    });
  }

  async jobRetry(id: string): Promise<'retried' | 'not-final' | 'missing'> {
    const now = this.#now();
    return this.#write(() => {
      if (this.#sql.retryFinal.run({ id, now }).changes > 0) return 'retried';
      return this.#sql.leaseCheck.get({ id }) ? 'not-final' : 'missing';
    });
  }

  async jobsRecoverExpired(): Promise<RecoverResult> {
    const now = this.#now();
    const expired = this.#sql.recoverExpired.all({ now }) as Pick<JobRow, 'seq' | 'id' | 'deliveries' | 'max_deliveries'>[];
    if (expired.length === 0) return { requeued: [], failed: [] };
    return this.#write(() => {
      const result: RecoverResult = { requeued: [], failed: [] };
      // Re-read inside the write lock: another process may have recovered them meanwhile.
      for (const row of this.#sql.recoverExpired.all({ now }) as typeof expired) {
        if (row.deliveries >= row.max_deliveries) {
          const error = JSON.stringify(errorInfo(new WorkerLostError(row.id, row.deliveries)));
          this.#sql.lost.run({ seq: row.seq, error, now });
          result.failed.push(row.id);
        } else {
          this.#sql.requeue.run({ seq: row.seq });
          result.requeued.push(row.id);
        }
      }
      return result;
    });
  }

  async jobsDeleteExpired(): Promise<number> {
    const now = this.#now();
    return this.#write(() => this.#sql.deleteExpired.run({ now }).changes);
  }

  async jobGet(id: string): Promise<JobRecord | null> {
    const row = this.#sql.get.get({ id }) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  async jobsList(params: ListParams): Promise<JobRecord[]> {
    const where: string[] = [];
    const values: Record<string, unknown> = { limit: params.limit };
    if (params.states?.length) {
      // States are inlined (checked against JOB_STATES first) so SQLite can use the partial indexes.
      const bad = params.states.find((s) => !JOB_STATES.includes(s));
      if (bad !== undefined) throw new InvalidArgumentError(`states: unknown state ${JSON.stringify(bad)}; use ${JOB_STATES.join(', ')}`);
      where.push(params.states.length === 1 ? `state = '${params.states[0]}'` : `state IN (${params.states.map((st) => `'${st}'`).join(', ')})`);
    }
    if (params.queue !== undefined) (where.push('queue = $queue'), (values.queue = params.queue));
    if (params.task !== undefined) (where.push('task = $task'), (values.task = params.task));
    if (params.runAfter !== undefined) (where.push('run_at > $runAfter'), (values.runAfter = params.runAfter));
    const sql = `SELECT * FROM conveyor_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $limit`;
    return (this.#db.prepare(sql).all(values) as JobRow[]).map(toRecord);
  }

  async queuePurge(queue: string): Promise<number> {
    return this.#write(() => this.#sql.purge.run({ queue }).changes);
  }

  async queueStats(): Promise<QueueStats[]> {
    const byQueue = new Map<string, QueueStats>();
    for (const row of this.#sql.stats.all() as { queue: string; state: JobRecord['state']; n: number }[]) {
      let entry = byQueue.get(row.queue);
      if (!entry) {
        entry = { queue: row.queue, counts: Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as QueueStats['counts'] };
        byQueue.set(row.queue, entry);
      }
      entry.counts[row.state] = row.n;
    }
    return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
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

  async close(): Promise<void> {
    this.#wakeup.close();
    if (this.#db.open) this.#db.close();
  }
}
