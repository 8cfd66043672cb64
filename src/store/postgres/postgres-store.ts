/**
 * The PostgreSQL engine: the tables of one schema (migration 001), each transition one
 * transaction; a worker's usual completions-and-reserve is one statement (migration 002's
 * `settle_and_take`), the rest run here statement by statement. Workers take jobs with
 * `FOR UPDATE SKIP LOCKED`, so they never wait on each other's rows; what two transactions could decide at once on different rows is serialized by a lock on
 * what they share (an idempotency key, a chord, a pool: see finish.ts and parts.ts). A deadlock
 * or serialization failure rolls the transition back whole, and it runs again.
 *
 * Time: every decision is made on the database's clock (`clock_timestamp()`, read once at the
 * start of each transition), so workers on hosts whose clocks disagree agree on what is due and
 * what has lapsed. A test clock, when given, replaces it.
 *
 * Wake-ups: a write that may give a worker something to do notifies the schema's channel at
 * commit (`pg_notify`); idle workers wait on LISTEN (notifications.ts), not by polling. A
 * notification lost while the listening connection was down is covered by a wake-up at every
 * (re)subscribe, and by the caller's own timeout.
 *
 * The driver is node-postgres (pg): see bench/RESULTS-postgres.md for why not postgres.js.
 */
import pg from 'pg';
import type { JobState } from '../../states.js';
import * as checks from '../checks.js';
import { toRecord, parseParent, type JobRow } from '../job-rows.js';
import { expiredError, expiresAtOf, fenceVerdict, keyHeld, revokedError, runAtOf, workerLostError } from '../policy.js';
import {
  COUNTERS, type CallbackJob, type CounterName, type Counters, type EnqueueOptions, type EnqueueResult, type JobRecord, type LeaseRef,
  type ListParams, type NewJob, type ParentInfo, type PoolItem, type PoolLease, type QueueStats, type RecoverResult,
  type ReserveParams, type ReservedJob, type RetryAnswer, type Settlement, type SettleAndReserveResult, type StepOutcome, type StepRecord,
  type Store, type StoreOptions, type TransactionClient, type TransactionOutcome, type WaitParams, type WorkerInfo, type WriteOutcome,
} from '../store.js';
import { Waiters } from '../waiters.js';
import { callerTx } from './caller-tx.js';
import { unreachable } from './unavailable.js';
import { chordRetryArgs, finish, follow, type FinishScope } from './finish.js';
import { checkVersion, migrate } from './migrate.js';
import * as parts from './parts.js';
import { Notifications } from './notifications.js';
import { count, run, tables, type Tables, type Tx } from './tables.js';
import * as views from './views.js';

const DAY_MS = 86_400_000;
/** How many finished jobs one statement of `jobsDeleteExpired` deletes. */
const DELETE_BATCH = 1000;
/** How many times a transition that lost a deadlock or a serialization race runs again. */
const RETRIES = 20;
const HISTORY_MAX = 50;

/** Options of the PostgreSQL store, beyond {@link StoreOptions}. */
export interface PostgresStoreOptions extends StoreOptions {
  /** `postgres://user:pass@host:port/db` (the store's own parameters already taken out). */
  url: string;
  /** The schema of the store's tables. @default 'conveyor' */
  schema?: string;
  /**
   * Apply missing migrations at open (under an advisory lock). False for a role that may not
   * create tables: the store only checks that the schema is current (`conveyor migrate` makes it so).
   * @default true
   */
  migrate?: boolean;
  /** Connections in the store's pool. @default 10 */
  maxConnections?: number;
  /** How the store is shown (no credentials). */
  description: string;
}

/** What a final transition answers: whether there is anything to fire. */
interface FinalRow {
  id: string;
  quiet: boolean;
}

interface DueRow {
  seq: number;
  priority: number;
  run_at: number;
}

/** A row the take statement answers: leased, or `expired` (only seq and id are set then). */
interface TakeRow {
  seq: number;
  id: string;
  task: string;
  queue: string;
  args: string;
  attempt: number;
  deliveries: number;
  token: number;
  enqueued_at: number;
  parent: string | null;
  expired: boolean;
}

/** A row `settle_and_take` answers: a leased job, or (id NULL, alone) "run the full transition". */
type FastRow = Omit<TakeRow, 'seq' | 'id' | 'expired'> & { id: string | null; lease_expires_at: number };

/** The database's clock in epoch ms, read inside the statement. */
const DB_NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Errors after which the transition, rolled back whole, may simply run again. */
const isRace = (err: unknown) => ['40001', '40P01'].includes((err as { code?: string } | undefined)?.code ?? '');

/** The PostgreSQL engine of the {@link Store} contract. Open it with {@link PostgresStore.open}. */
export class PostgresStore implements Store {
  readonly capabilities = { crossProcessWakeups: true, remoteCalls: true, callerTransactions: true };
  readonly description: string;
  readonly #pool: pg.Pool;
  readonly #t: Tables;
  readonly #schema: string;
  readonly #channel: string;
  readonly #notifyAndCommit: string;
  readonly #clock: (() => number) | undefined;
  readonly #revokedTtlMs: number;
  readonly #waiters = new Waiters();
  #notifications: Notifications | undefined;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.#pool = pool;
    this.#schema = options.schema ?? 'conveyor';
    this.#t = tables(this.#schema);
    this.#channel = `conveyor:${this.#schema}`;
    this.#notifyAndCommit = `SELECT pg_notify('${this.#channel.replaceAll("'", "''")}', ''); COMMIT`;
    this.#clock = options.clock;
    this.#revokedTtlMs = options.revokedTtlMs ?? DAY_MS;
    this.description = options.description;
  }

  /** Connect, migrate (or check the schema, with `migrate: false`) and subscribe to wake-ups. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const config: pg.ClientConfig = {
      connectionString: options.url,
      application_name: 'conveyor',
      connectionTimeoutMillis: 10_000,
      // bigint (epoch ms, tokens, counts) as numbers — every value the store keeps is a safe
      // integer — for this store's connections only, not pg's global parsers.
      types: { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as never },
    };
    const pool = new pg.Pool({ ...config, max: options.maxConnections ?? 10 });
    // A pooled connection the server closed while idle (a restart): the pool drops it; nothing to do.
    pool.on('error', () => {});
    const store = new PostgresStore(pool, options);
    try {
      await store.#call(async () => {
        if (options.migrate === false) await checkVersion(pool, store.#schema, options.description);
        else await migrate(pool, store.#schema);
        store.#notifications = await Notifications.start(config, store.#channel, store.#waiters);
      });
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  /** Run a call, turning "no answer" into a StoreUnavailableError that says what to check. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unreachable(err, this.description) ?? err;
    }
  }

  /** The store's now: the test clock, else the database's, read on `tx`. */
  async #now(tx: Tx): Promise<number> {
    if (this.#clock) return this.#clock();
    // float8, not bigint: a caller's driver (its own transaction) may give bigints as strings.
    const [row] = await run<{ now: number }>(tx, `SELECT ${DB_NOW}::float8 AS now`);
    return row!.now;
  }

  /**
   * Run `fn` as one transaction with the store's now, then wake the waiters of every process
   * (at commit), unless `quiet` (a write nobody waits for, or a test of its result: a reserve
   * that made nothing final). Runs again after a deadlock.
   */
  #write<T>(fn: (tx: pg.PoolClient, now: number) => Promise<T>, quiet: boolean | ((result: T) => boolean) = false): Promise<T> {
    const notify = typeof quiet === 'function' ? (result: T) => !quiet(result) : () => !quiet;
    return this.#again(async () => {
      const result = await this.#transaction(fn, { notify });
      if (notify(result)) this.#waiters.notify();
      return result;
    });
  }

  /** `fn` as a store call, run again when it lost a deadlock or a serialization race (rolled back whole). */
  #again<T>(fn: () => Promise<T>): Promise<T> {
    return this.#call(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          if (!isRace(err) || attempt >= RETRIES) throw err;
        }
      }
    });
  }

  /**
   * `fn` between BEGIN and COMMIT on one pooled connection, with the store's now; rolled back when
   * it throws. The clock is read in BEGIN's round trip, and with `notify` the wake-up is sent in
   * COMMIT's (one simple query each, so the channel is inlined as a literal).
   */
  async #transaction<T>(fn: (tx: pg.PoolClient, now: number) => Promise<T>, options: { notify: boolean | ((result: T) => boolean) }): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // The server may end the connection between two statements (a restart): pg reports that as an
    // 'error' event, which would kill the process if nobody listened. The next statement fails.
    const lost = (err: Error) => (broken = err);
    client.on('error', lost);
    try {
      let now: number;
      if (this.#clock) {
        await client.query('BEGIN');
        now = this.#clock();
      } else {
        const [, clock] = (await client.query(`BEGIN; SELECT ${DB_NOW}::float8 AS now`)) as unknown as pg.QueryResult<{ now: number }>[];
        now = clock!.rows[0]!.now;
      }
      const value = await fn(client, now);
      const notify = typeof options.notify === 'function' ? options.notify(value) : options.notify;
      await client.query(notify ? this.#notifyAndCommit : 'COMMIT');
      return value;
    } catch (err) {
      // A connection that failed is not given back to the pool: the next call gets a fresh one.
      if (unreachable(err, this.description)) broken = err as Error;
      else await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  /** A read on one connection, with the store's now. */
  #read<T>(fn: (tx: Tx, now: number) => Promise<T>): Promise<T> {
    return this.#call(async () => fn(this.#pool, await this.#now(this.#pool)));
  }

  // ---- enqueue ----

  async jobsEnqueue(jobs: readonly NewJob[], options?: EnqueueOptions): Promise<EnqueueResult[]> {
    const given = options?.tx === undefined ? undefined : callerTx(options.tx);
    checks.checkNewJobs(jobs);
    if (jobs.length === 0) return [];
    const enqueue = (tx: Tx, now: number) => (jobs.some((j) => j.idempotency) ? this.#enqueueEach(tx, jobs, now) : this.#enqueueBulk(tx, jobs, now));
    if (!given) return this.#write(enqueue);
    // In the caller's transaction: its COMMIT makes the jobs exist (and delivers the wake-up), its
    // ROLLBACK undoes them with the keys they took. Nothing here commits or retries.
    return this.#call(async () => {
      const results = await enqueue(given, await this.#now(given));
      await run(given, 'SELECT pg_notify($1, $2)', [this.#channel, '']);
      return results;
    });
  }

  /** Jobs without idempotency keys: one INSERT for the batch; a stored or repeated id creates nothing. */
  async #enqueueBulk(tx: Tx, jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    const col = <T>(f: (j: NewJob) => T) => jobs.map(f);
    const inserted = await run<{ id: string }>(tx,
      `INSERT INTO ${this.#t.jobs} (id, task, queue, state, args, priority, run_at, expires_at, enqueued_at, max_deliveries, callbacks, chord)
       SELECT id, task, queue, 'PENDING', args, priority, run_at, expires_at, $1, max_deliveries, callbacks, chord
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[], $9::int[], $10::text[], $11::text[])
         WITH ORDINALITY AS j(id, task, queue, args, priority, run_at, expires_at, max_deliveries, callbacks, chord, n)
       ORDER BY n
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [now, col((j) => j.id), col((j) => j.task), col((j) => j.queue), col((j) => j.argsJson), col((j) => j.priority),
        col((j) => runAtOf(j, now)), col((j) => expiresAtOf(j, now)), col((j) => j.maxDeliveries),
        col((j) => (j.callbacks?.length ? JSON.stringify(j.callbacks) : null)), col((j) => (j.chord ? JSON.stringify(j.chord) : null))]);
    const fresh = new Set(inserted.map((r) => r.id));
    const results: EnqueueResult[] = [];
    for (const job of jobs) {
      const created = fresh.delete(job.id);
      if (!created) {
        await count(tx, this.#t, 'duplicates_suppressed_total');
        await follow(this.#finishScope(tx, now), job.id, job);
      }
      results.push({ id: job.id, created });
    }
    return results;
  }

  /** Jobs one by one, in batch order (a key may be taken by a job earlier in the batch). */
  async #enqueueEach(tx: Tx, jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    const results: EnqueueResult[] = [];
    for (const job of jobs) {
      let holder: string | null = null;
      if (job.idempotency) {
        await this.#lockKey(tx, job.idempotency.key);
        // An id already stored answers itself, before any key is looked at (a resend is the same send).
        const stored = (await run(tx, `SELECT 1 FROM ${this.#t.jobs} WHERE id = $1`, [job.id])).length > 0;
        if (!stored) holder = await this.#keyHolder(tx, job.idempotency.key, now);
      }
      const id = holder ?? job.id;
      const created = id === job.id && (await this.#insert(tx, job, now, { runAt: runAtOf(job, now), expiresAt: expiresAtOf(job, now) }));
      if (!created) {
        await count(tx, this.#t, 'duplicates_suppressed_total');
        await follow(this.#finishScope(tx, now), id, job);
      }
      results.push({ id, created });
    }
    return results;
  }

  /** Serialize, for the rest of the transaction, everything that decides about idempotency key `key`. */
  async #lockKey(tx: Tx, key: string): Promise<void> {
    await run(tx, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`conveyor key ${this.#schema} ${key}`]);
  }

  /** The id of the job holding `key` now, or null when the key is free (call with the key locked). */
  async #keyHolder(tx: Tx, key: string, now: number): Promise<string | null> {
    const [h] = await run<{ id: string; state: JobState; finished_at: number | null; idem_ttl: number | null; keep_until: number | null }>(tx,
      `SELECT id, state, finished_at::float8, idem_ttl::float8, keep_until::float8 FROM ${this.#t.jobs} WHERE idem_key = $1
       ORDER BY state IN ('SUCCESS', 'FAILURE', 'REVOKED'), finished_at DESC NULLS LAST, seq DESC LIMIT 1`, [key]);
    return h && keyHeld({ state: h.state, finishedAt: h.finished_at, ttlMs: h.idem_ttl, keepUntil: h.keep_until }, now) ? h.id : null;
  }

  /** Insert a job (inside a transaction); false when its id is already stored. */
  async #insert(
    tx: Tx,
    job: CallbackJob & { idempotency?: NewJob['idempotency']; chord?: NewJob['chord'] },
    now: number,
    at: { runAt: number; expiresAt: number | null; parent?: ParentInfo | null; state?: 'PENDING' | 'FAILURE'; error?: string | null },
  ): Promise<boolean> {
    const failed = at.state === 'FAILURE';
    const rows = await run(tx,
      `INSERT INTO ${this.#t.jobs} (id, task, queue, state, args, priority, run_at, expires_at, enqueued_at, max_deliveries,
                                   idem_key, idem_ttl, callbacks, chord, parent, error, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (id) DO NOTHING RETURNING 1`,
      [job.id, job.task, job.queue, failed ? 'FAILURE' : 'PENDING', job.argsJson, job.priority, at.runAt, at.expiresAt, now, job.maxDeliveries,
        job.idempotency?.key ?? null, job.idempotency?.ttlMs ?? null, job.callbacks?.length ? JSON.stringify(job.callbacks) : null,
        job.chord ? JSON.stringify(job.chord) : null, at.parent ? JSON.stringify(at.parent) : null, at.error ?? null, failed ? now : null]);
    return rows.length > 0;
  }

  #finishScope(tx: Tx, now: number): FinishScope {
    return {
      tx, t: this.#t, now, schema: this.#schema,
      insert: (job, f) => this.#insert(tx, job, now, { runAt: now, expiresAt: null, parent: f.parent, state: f.state, error: f.error && JSON.stringify(f.error) }),
    };
  }

  /** Fire the callbacks and chord of a job a transition just made final (when it has any); answers 1 when there was a row. */
  async #finished(tx: Tx, row: FinalRow | undefined, now: number): Promise<number> {
    if (!row) return 0;
    if (!row.quiet) await finish(this.#finishScope(tx, now), row.id);
    return 1;
  }

  // ---- reserve, settle, renew ----

  async jobsReserve(params: ReserveParams): Promise<ReservedJob[]> {
    checks.checkReserve(params);
    const fast = await this.#settleAndTake([], params);
    if (fast) return fast.jobs;
    // Taking jobs wakes nobody (an idle worker woken by it would reserve for nothing, and wake the
    // others again); revoking expired ones does (their callers wait for a final state).
    const { jobs } = await this.#write((tx, now) => this.#take(tx, params, now), (taken) => taken.revoked === 0);
    return jobs;
  }

  async jobsSettleAndReserve(params: { settlements: readonly Settlement[]; reserve: ReserveParams | null }): Promise<SettleAndReserveResult> {
    checks.checkSettlements(params.settlements);
    if (params.reserve) checks.checkReserve(params.reserve);
    const fast = await this.#settleAndTake(params.settlements, params.reserve);
    if (fast) return fast;
    const reserve = params.reserve;
    return this.#write(async (tx, now) => ({
      outcomes: await this.#settleAll(tx, params.settlements, now),
      jobs: reserve ? (await this.#take(tx, reserve, now)).jobs : [],
    }));
  }

  /**
   * A worker's usual round trip in one statement (migration 2's `settle_and_take`): completions
   * only, each delivery once, from one queue. Answers undefined when the batch is not of that
   * kind, or when the function found something only the full transition decides (a lost lease,
   * callbacks to fire, an expired job): it then wrote nothing, and the caller runs the full one.
   */
  async #settleAndTake(settlements: readonly Settlement[], reserve: ReserveParams | null): Promise<SettleAndReserveResult | undefined> {
    if (reserve && reserve.queues.length !== 1) return undefined;
    const completes: Extract<Settlement, { kind: 'complete' }>[] = [];
    const seen = new Set<string>();
    for (const s of settlements) {
      if (s.kind !== 'complete' || seen.has(`${s.token}:${s.id}`)) return undefined;
      seen.add(`${s.token}:${s.id}`);
      completes.push(s);
    }
    const rows = await this.#again(() => run<FastRow>(this.#pool, `SELECT * FROM ${this.#t.settleAndTake}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
      this.#clock ? this.#clock() : null, completes.map((c) => c.id), completes.map((c) => c.token), completes.map((c) => c.resultJson),
      completes.map((c) => c.resultTtlMs), reserve?.workerId ?? null, reserve?.leaseMs ?? 0, reserve?.queues[0] ?? null, reserve?.limit ?? 0,
      completes.length > 0 ? this.#channel : null, // as in jobsReserve: a reserve alone wakes nobody
    ]));
    if (rows.length > 0 && rows[0]!.id === null) return undefined;
    if (completes.length > 0) this.#waiters.notify();
    return {
      outcomes: completes.map(({ id }) => ({ id, ok: true })),
      jobs: rows.map((r) => ({
        id: r.id!, task: r.task, queue: r.queue, argsJson: r.args, attempt: r.attempt, deliveries: r.deliveries,
        token: r.token, enqueuedAt: r.enqueued_at, leaseExpiresAt: r.lease_expires_at, parent: parseParent(r.parent),
      })),
    };
  }

  /**
   * Lease up to `limit` due jobs, skipping rows other workers are taking; inside a transaction.
   * From one queue, each pass is one statement (lock the due rows, lease the live ones, answer the
   * expired ones); across queues, each queue's head is read first and merged in reservation order.
   */
  async #take(tx: Tx, params: ReserveParams, now: number): Promise<{ jobs: ReservedJob[]; revoked: number }> {
    const leaseUntil = now + params.leaseMs;
    const taken: ReservedJob[] = [];
    let revoked = 0;
    const lease = [params.workerId, leaseUntil];
    while (taken.length < params.limit) {
      const want = params.limit - taken.length;
      const rows = params.queues.length === 1
        ? await run<TakeRow>(tx, this.#takeSql(`queue = $4 AND state IN ('PENDING', 'RETRY') AND run_at <= $1 ORDER BY priority DESC, run_at, seq LIMIT $5 FOR UPDATE SKIP LOCKED`), [now, ...lease, params.queues[0], want])
        : await this.#takeMerged(tx, params.queues, now, want, lease);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (!r.expired) {
          taken.push({
            id: r.id, task: r.task, queue: r.queue, argsJson: r.args, attempt: r.attempt, deliveries: r.deliveries,
            token: r.token, enqueuedAt: r.enqueued_at, leaseExpiresAt: leaseUntil, parent: parseParent(r.parent),
          });
          continue;
        }
        const [final] = await run<FinalRow>(tx,
          `UPDATE ${this.#t.jobs} SET state = 'REVOKED', error = $2, finished_at = $3, keep_until = $4 WHERE seq = $1
           RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet`,
          [r.seq, JSON.stringify(expiredError(r.id)), now, now + this.#revokedTtlMs]);
        revoked += await this.#finished(tx, final, now);
      }
    }
    return { jobs: taken, revoked };
  }

  /** Across queues: each queue's due head locked, merged in reservation order, then leased by seq. */
  async #takeMerged(tx: Tx, queues: readonly string[], now: number, limit: number, lease: unknown[]): Promise<TakeRow[]> {
    const due: DueRow[] = [];
    for (const queue of queues) {
      due.push(...(await run<DueRow>(tx,
        `SELECT seq, priority, run_at FROM ${this.#t.jobs}
         WHERE queue = $1 AND state IN ('PENDING', 'RETRY') AND run_at <= $2
         ORDER BY priority DESC, run_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED`, [queue, now, limit])));
    }
    due.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq);
    if (due.length === 0) return [];
    return run<TakeRow>(tx, this.#takeSql('seq = ANY($4::bigint[])'), [now, ...lease, due.slice(0, limit).map((r) => r.seq)]);
  }

  /**
   * The statement that leases the rows `where` picks (`$1` now, `$2` worker, `$3` lease end): the
   * live ones become STARTED with a new token; the expired ones are answered with `expired`, for
   * the caller to revoke. In reservation order.
   */
  #takeSql(where: string): string {
    return `WITH due AS (SELECT seq, expires_at FROM ${this.#t.jobs} WHERE ${where}),
      taken AS (
        UPDATE ${this.#t.jobs} j SET state = 'STARTED', token = j.token + 1, deliveries = j.deliveries + 1, worker = $2,
          started_at = $1, lease_expires_at = $3, terminate = false, progress = NULL
        FROM due WHERE j.seq = due.seq AND (due.expires_at IS NULL OR due.expires_at >= $1)
        RETURNING j.seq, j.id, j.task, j.queue, j.args, j.attempt, j.deliveries, j.token, j.enqueued_at, j.parent, j.priority, j.run_at)
      SELECT seq, id, task, queue, args, attempt, deliveries, token, enqueued_at, parent, priority, run_at, false AS expired FROM taken
      UNION ALL
      SELECT j.seq, j.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, j.priority, j.run_at, true FROM due JOIN ${this.#t.jobs} j ON j.seq = due.seq WHERE due.expires_at < $1
      ORDER BY priority DESC, run_at, seq`;
  }

  async jobsRenew(params: { leases: readonly LeaseRef[]; leaseMs: number }): Promise<WriteOutcome[]> {
    checks.checkRenew(params);
    if (params.leases.length === 0) return [];
    // One statement, one round trip, no transaction around it: a renewal must land in time even on
    // a starved machine (a worker whose loop a handler blocks renews from a thread). Only leases it
    // did not renew need a transition to say why.
    const renewed = await this.#call(() => run<{ id: string; token: number }>(this.#pool,
      `UPDATE ${this.#t.jobs} j SET lease_expires_at = COALESCE($4::bigint, ${DB_NOW}) + $3
       FROM unnest($1::text[], $2::bigint[]) AS l(id, token)
       WHERE j.id = l.id AND j.token = l.token AND j.state = 'STARTED'
       RETURNING j.id, j.token`,
      [params.leases.map((l) => l.id), params.leases.map((l) => l.token), params.leaseMs, this.#clock ? this.#clock() : null]));
    const ok = new Set(renewed.map((r) => `${r.token}:${r.id}`));
    if (ok.size === params.leases.length) return params.leases.map(({ id }) => ({ id, ok: true }));
    return this.#write(async (tx) => {
      const outcomes: WriteOutcome[] = [];
      for (const { id, token } of params.leases) outcomes.push(ok.has(`${token}:${id}`) ? { id, ok: true } : await this.#loss(tx, id, token));
      return outcomes;
    }, true);
  }

  async jobsSettle(settlements: readonly Settlement[]): Promise<WriteOutcome[]> {
    checks.checkSettlements(settlements);
    return this.#write((tx, now) => this.#settleAll(tx, settlements, now));
  }

  /**
   * Settle a batch in order. The completions (a worker's usual batch) are one UPDATE for all, then
   * each fires its callbacks and chord in batch order, as if settled one by one.
   */
  async #settleAll(tx: Tx, settlements: readonly Settlement[], now: number): Promise<WriteOutcome[]> {
    const completed = await this.#completeAll(tx, settlements, now);
    const outcomes: WriteOutcome[] = [];
    for (const s of settlements) {
      let done: number;
      if (s.kind === 'complete') {
        // A second completion of the same delivery finds the job final, as it would one by one.
        const key = `${s.token}:${s.id}`;
        done = await this.#finished(tx, completed.get(key), now);
        completed.delete(key);
      } else {
        done = await this.#settleOne(tx, s, now);
      }
      outcomes.push(done > 0 ? { id: s.id, ok: true } : await this.#loss(tx, s.id, s.token));
    }
    return outcomes;
  }

  /** The fenced UPDATE of every `complete` settlement in one statement; answers the rows it made final, by `token:id`. */
  async #completeAll(tx: Tx, settlements: readonly Settlement[], now: number): Promise<Map<string, FinalRow>> {
    // The first completion of each delivery: one source row per job row (the UPDATE would pick any).
    const first = new Map<string, Extract<Settlement, { kind: 'complete' }>>();
    for (const s of settlements) if (s.kind === 'complete' && !first.has(`${s.token}:${s.id}`)) first.set(`${s.token}:${s.id}`, s);
    const completes = [...first.values()];
    if (completes.length === 0) return new Map();
    const rows = await run<FinalRow & { token: number }>(tx,
      `UPDATE ${this.#t.jobs} j SET state = 'SUCCESS', result = c.result, error = NULL, finished_at = $5, lease_expires_at = NULL, keep_until = $5 + c.ttl
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) AS c(id, token, result, ttl)
       WHERE j.id = c.id AND j.token = c.token AND j.state = 'STARTED'
       RETURNING j.id, j.token, (j.callbacks IS NULL AND j.chord IS NULL AND j.followers IS NULL) AS quiet`,
      [completes.map((c) => c.id), completes.map((c) => c.token), completes.map((c) => c.resultJson), completes.map((c) => c.resultTtlMs), now]);
    return new Map(rows.map((r) => [`${r.token}:${r.id}`, { id: r.id, quiet: r.quiet }]));
  }

  /** One settlement other than a completion (those are #completeAll's); answers 1 when the token held the lease. */
  async #settleOne(tx: Tx, s: Exclude<Settlement, { kind: 'complete' }>, now: number): Promise<number> {
    const { id, token } = s;
    const final = `RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet`;
    const fenced = `WHERE id = $1 AND token = $2 AND state = 'STARTED'`;
    switch (s.kind) {
      case 'fail': {
        const [row] = await run<FinalRow>(tx,
          `UPDATE ${this.#t.jobs} SET state = 'FAILURE', error = $3, finished_at = $4, lease_expires_at = NULL ${fenced} ${final}`,
          [id, token, JSON.stringify(s.error), now]);
        return this.#finished(tx, row, now);
      }
      case 'retry': {
        const history = await this.#history(tx, id, token, now, 'retry', s.error);
        if (history === undefined) return 0;
        const rows = await run(tx,
          `UPDATE ${this.#t.jobs} SET state = 'RETRY', error = $3, run_at = $4, attempt = attempt + 1, deliveries = 0, lease_expires_at = NULL, history = $5 ${fenced} RETURNING 1`,
          [id, token, JSON.stringify(s.error), now + s.delayMs, history]);
        return rows.length;
      }
      case 'release': {
        const history = await this.#history(tx, id, token, now, 'released', null);
        if (history === undefined) return 0;
        const rows = await run(tx,
          `UPDATE ${this.#t.jobs} SET state = 'PENDING', deliveries = deliveries - 1, lease_expires_at = NULL, history = $3 ${fenced} RETURNING 1`,
          [id, token, history]);
        return rows.length;
      }
    }
  }

  /**
   * The job's history with its current delivery appended (the last HISTORY_MAX kept), locking its
   * row; undefined when `token` does not hold the job's lease.
   */
  async #history(tx: Tx, id: string, token: number, now: number, outcome: 'retry' | 'lost' | 'released', error: unknown): Promise<string | undefined> {
    const [row] = await run<{ token: number; attempt: number; worker: string | null; started_at: number | null; history: string | null }>(tx,
      `SELECT token, attempt, worker, started_at, history FROM ${this.#t.jobs} WHERE id = $1 AND token = $2 AND state = 'STARTED' FOR UPDATE`, [id, token]);
    if (!row) return undefined;
    const history = row.history === null ? [] : (JSON.parse(row.history) as unknown[]);
    history.push({ token: row.token, attempt: row.attempt, worker: row.worker, startedAt: row.started_at, endedAt: now, outcome, error: error ?? null });
    return JSON.stringify(history.slice(-HISTORY_MAX));
  }

  async jobCompleteInTransaction<T>(
    lease: LeaseRef & { resultTtlMs: number },
    work: (tx: TransactionClient) => Promise<{ value: T; resultJson: string | null }>,
  ): Promise<TransactionOutcome<T>> {
    const { id, token } = lease;
    checks.checkSettlements([{ kind: 'complete', id, token, resultJson: null, resultTtlMs: lease.resultTtlMs }]);
    let refused: WriteOutcome | undefined;
    const answer = await this.#call(() => this.#transaction(async (tx) => {
      // A delivery that lost its lease already does not start the work. Not locked: renewals of
      // this worker's other leases must not wait for the handler's transaction.
      const before = await this.#loss(tx, id, token); // a stale count here is rolled back, and made below
      if (!before.ok) throw (refused = before);
      const { value, resultJson } = await work(tx);
      // The fenced UPDATE locks the row until COMMIT: a recovery or revoke either came first (no
      // row: roll back the work) or waits and finds the job final.
      const now = await this.#now(tx);
      const [done] = await this.#settleAll(tx, [{ kind: 'complete', id, token, resultJson, resultTtlMs: lease.resultTtlMs }], now);
      if (!done!.ok) throw (refused = done);
      return value;
    }, { notify: true })).catch((err: unknown) => {
      if (refused && err === refused) return refused;
      throw err;
    });
    if (answer !== refused) {
      this.#waiters.notify();
      return { ok: true, value: answer as T };
    }
    // Rolled back: say why, as a settlement would (a stale token counted).
    const loss = await this.#write((tx) => this.#loss(tx, id, token), true);
    return loss.ok ? { ok: false, reason: 'stale', terminate: false } : { ok: false, reason: loss.reason, terminate: loss.terminate };
  }

  /**
   * Why `token` does not (or does) hold job `id`'s lease (a stale one is counted). With `hold`,
   * the row is locked FOR SHARE so that the verdict holds until the transaction ends: a write the
   * fence let through (a step) commits before another delivery can take the job, never after.
   */
  async #loss(tx: Tx, id: string, token: number, hold = false): Promise<WriteOutcome> {
    const [row] = await run<{ state: JobState; token: number; terminate: boolean }>(tx,
      `SELECT state, token, terminate FROM ${this.#t.jobs} WHERE id = $1${hold ? ' FOR SHARE' : ''}`, [id]);
    const outcome = fenceVerdict(id, token, row);
    if (!outcome.ok && outcome.reason === 'stale') await count(tx, this.#t, 'stale_writes_refused_total');
    return outcome;
  }

  // ---- revoke, dead-letter retry, recovery, expiry ----

  async jobRevoke(params: { id: string; terminate: boolean; reason?: string }): Promise<'revoked' | 'final' | 'missing'> {
    checks.checkName(params.id, 'id');
    if (params.reason !== undefined) checks.checkText(params.reason, 'reason');
    const error = JSON.stringify(revokedError(params.reason));
    return this.#write(async (tx, now) => {
      const [row] = await run<FinalRow>(tx,
        `UPDATE ${this.#t.jobs} SET state = 'REVOKED', terminate = $2, error = $3, finished_at = $4, lease_expires_at = NULL, keep_until = $5
         WHERE id = $1 AND state IN ('PENDING', 'RETRY', 'STARTED')
         RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet`,
        [params.id, params.terminate, error, now, now + this.#revokedTtlMs]);
      if ((await this.#finished(tx, row, now)) > 0) return 'revoked';
      return (await run(tx, `SELECT 1 FROM ${this.#t.jobs} WHERE id = $1`, [params.id])).length > 0 ? 'final' : 'missing';
    });
  }

  async jobRetry(id: string): Promise<RetryAnswer> {
    checks.checkName(id, 'id');
    return this.#write(async (tx, now) => {
      const [row] = await run<JobRow>(tx, `SELECT * FROM ${this.#t.jobs} WHERE id = $1 FOR UPDATE`, [id]);
      if (!row) return 'missing';
      if (row.state !== 'FAILURE' && row.state !== 'REVOKED') return 'not-final';
      if (row.idem_key !== null) {
        await this.#lockKey(tx, row.idem_key);
        if (((await this.#keyHolder(tx, row.idem_key, now)) ?? id) !== id) return 'key-held';
      }
      let args = row.args;
      if (row.state === 'FAILURE' && row.started_at === null) {
        const withResults = await chordRetryArgs(tx, this.#t, id, row.args);
        if (withResults === null) return 'chord-failed';
        args = withResults ?? args;
      }
      await run(tx,
        `UPDATE ${this.#t.jobs} SET state = 'PENDING', attempt = 1, deliveries = 0, run_at = $2, finished_at = NULL, error = NULL,
           result = NULL, keep_until = NULL, terminate = false, expires_at = NULL, args = $3
         WHERE id = $1 AND state IN ('FAILURE', 'REVOKED')`, [id, now, args]);
      return 'retried';
    });
  }

  async jobsRecoverExpired(): Promise<RecoverResult> {
    const lapsed = `SELECT seq, id, token, deliveries, max_deliveries FROM ${this.#t.jobs} WHERE state = 'STARTED' AND lease_expires_at < $1`;
    const any = await this.#read(async (tx, now) => (await run(tx, `${lapsed} LIMIT 1`, [now])).length > 0);
    if (!any) return { requeued: [], failed: [] };
    return this.#write(async (tx, now) => {
      const result: RecoverResult = { requeued: [], failed: [] };
      // Locked and re-read inside the transaction: another process may be recovering them now.
      const rows = await run<{ seq: number; id: string; token: number; deliveries: number; max_deliveries: number }>(tx, `${lapsed} ORDER BY seq FOR UPDATE SKIP LOCKED`, [now]);
      for (const row of rows) {
        if (row.deliveries >= row.max_deliveries) {
          const [final] = await run<FinalRow>(tx,
            `UPDATE ${this.#t.jobs} SET state = 'FAILURE', error = $2, finished_at = $3, lease_expires_at = NULL WHERE seq = $1
             RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet`,
            [row.seq, JSON.stringify(workerLostError(row.id, row.deliveries)), now]);
          await this.#finished(tx, final, now);
          result.failed.push(row.id);
        } else {
          const history = await this.#history(tx, row.id, row.token, now, 'lost', null);
          await run(tx, `UPDATE ${this.#t.jobs} SET state = 'PENDING', lease_expires_at = NULL, history = $2 WHERE seq = $1`, [row.seq, history]);
          result.requeued.push(row.id);
        }
      }
      return result;
    });
  }

  async jobsDeleteExpired(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = await this.#write(async (tx, now) => {
        const rows = await run<{ n: number }>(tx,
          `WITH doomed AS (SELECT seq, id FROM ${this.#t.jobs} WHERE keep_until < $1 LIMIT ${DELETE_BATCH} FOR UPDATE SKIP LOCKED),
                steps AS (DELETE FROM ${this.#t.steps} WHERE job_id IN (SELECT id FROM doomed)),
                chords AS (DELETE FROM ${this.#t.chords} WHERE chord_id IN (SELECT id FROM doomed)),
                jobs AS (DELETE FROM ${this.#t.jobs} WHERE seq IN (SELECT seq FROM doomed) RETURNING 1)
           SELECT count(*)::int AS n FROM jobs`, [now]);
        return rows[0]!.n;
      }, true);
      deleted += n;
      if (n < DELETE_BATCH) return deleted;
    }
  }

  // ---- reads ----

  async jobGet(id: string): Promise<JobRecord | null> {
    return this.#read(async (tx) => {
      const [row] = await run<JobRow>(tx, `SELECT * FROM ${this.#t.jobs} WHERE id = $1`, [id]);
      return row ? toRecord(row) : null;
    });
  }

  async jobsList(params: ListParams): Promise<JobRecord[]> {
    return this.#read((tx) => views.jobsList(tx, this.#t, params));
  }

  async queuePurge(queue: string): Promise<number> {
    checks.checkQueueName(queue, 'queue');
    return this.#write(async (tx) => {
      const rows = await run<{ n: number }>(tx,
        `WITH doomed AS (SELECT seq, id FROM ${this.#t.jobs} WHERE queue = $1 AND state IN ('PENDING', 'RETRY') FOR UPDATE),
              steps AS (DELETE FROM ${this.#t.steps} WHERE job_id IN (SELECT id FROM doomed)),
              chords AS (DELETE FROM ${this.#t.chords} WHERE chord_id IN (SELECT id FROM doomed)),
              jobs AS (DELETE FROM ${this.#t.jobs} WHERE seq IN (SELECT seq FROM doomed) RETURNING 1)
         SELECT count(*)::int AS n FROM jobs`, [queue]);
      return rows[0]!.n;
    });
  }

  async queueStats(): Promise<QueueStats[]> {
    return this.#read((tx, now) => views.queueStats(tx, this.#t, now));
  }

  async waitForChange(params: WaitParams): Promise<void> {
    let timeoutMs = params.timeoutMs;
    const queues = params.queues ?? [];
    if (queues.length > 0 && !params.signal?.aborted) {
      // End the wait when the next scheduled job of these queues comes due (on the database's
      // clock). When the database cannot say (it is down), wait the whole timeout: a wait never fails.
      const [row] = await this.#read((tx, now) => run<{ wait: number | null }>(tx,
        `SELECT min(run_at) - $2::bigint AS wait FROM ${this.#t.jobs} WHERE queue = ANY($1::text[]) AND state IN ('PENDING', 'RETRY')`, [queues, now]))
        .catch(() => []);
      if (row?.wait !== null && row?.wait !== undefined) timeoutMs = Math.min(timeoutMs, Math.max(0, row.wait));
    }
    return this.#waiters.wait(timeoutMs, params.signal);
  }

  // ---- steps ----

  readonly #lease: parts.LeaseCheck = async (tx, id, token) => {
    const outcome = await this.#loss(tx, id, token, true);
    return outcome.ok ? { ok: true } : { ok: false, reason: outcome.reason, terminate: outcome.terminate };
  };

  async jobStepGet(params: { id: string; token: number; name: string }): Promise<StepOutcome> {
    checks.checkStep(params);
    return this.#write((tx) => parts.stepGet(tx, this.#t, this.#lease, params), true);
  }

  async jobStepPut(params: { id: string; token: number; name: string; resultJson: string }): Promise<StepOutcome> {
    checks.checkStep(params);
    return this.#write((tx, now) => parts.stepPut(tx, this.#t, this.#lease, params, now), true);
  }

  async jobSteps(id: string): Promise<StepRecord[]> {
    return this.#read((tx) => parts.stepsList(tx, this.#t, id));
  }

  // ---- pools ----

  async poolAdd(params: { pool: string; items: readonly string[] }): Promise<number> {
    checks.checkPool(params.pool, params.items);
    return this.#write((tx) => parts.poolAdd(tx, this.#t, params.pool, params.items));
  }

  async poolRemove(params: { pool: string; items: readonly string[] }): Promise<number> {
    checks.checkPool(params.pool, params.items);
    return this.#write((tx) => parts.poolRemove(tx, this.#t, params.pool, params.items));
  }

  async poolAcquire(params: { pool: string; holder: string; ttlMs: number }): Promise<PoolLease | null> {
    checks.checkPoolAcquire(params);
    // Quiet: a waiter woken by another waiter's failed acquire would try again at once, forever.
    return this.#write((tx) => parts.poolAcquire(tx, this.#t, params, (locked) => this.#now(locked)), true);
  }

  async poolRenew(params: { pool: string; item: string; token: number; ttlMs: number }): Promise<number | null> {
    checks.checkPoolRenew(params);
    return this.#write((tx, now) => parts.poolRenew(tx, this.#t, params, now), true);
  }

  async poolRelease(params: { pool: string; item: string; token: number }): Promise<'released' | 'not-held'> {
    checks.checkPoolLease(params);
    return this.#write((tx) => parts.poolRelease(tx, this.#t, params));
  }

  async poolItems(pool: string): Promise<PoolItem[]> {
    return this.#read((tx) => parts.poolItems(tx, this.#t, pool));
  }

  async poolsReclaimExpired(): Promise<number> {
    return this.#write((tx, now) => parts.poolReclaim(tx, this.#t, now));
  }

  // ---- counters, progress, workers, ticks ----

  async countersGet(): Promise<Counters> {
    const counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Counters;
    const rows = await this.#read((tx) => run<{ name: CounterName; value: number }>(tx, `SELECT name, value FROM ${this.#t.counters}`));
    for (const { name, value } of rows) if (name in counters) counters[name] = value;
    return counters;
  }

  async jobProgress(params: { id: string; token: number; fraction: number; infoJson: string | null }): Promise<WriteOutcome> {
    checks.checkProgress(params);
    const { id, token } = params;
    // Quiet: nobody waits for progress, and an idle worker woken by it would reserve for nothing.
    return this.#write(async (tx, now) => {
      const progress = JSON.stringify({ fraction: params.fraction, infoJson: params.infoJson, at: now });
      const rows = await run(tx, `UPDATE ${this.#t.jobs} SET progress = $3 WHERE id = $1 AND token = $2 AND state = 'STARTED' RETURNING 1`, [id, token, progress]);
      return rows.length > 0 ? { id, ok: true } : this.#loss(tx, id, token);
    }, true);
  }

  async workersHeartbeat(params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }): Promise<void> {
    checks.checkHeartbeat(params);
    await this.#write((tx, now) => parts.workersHeartbeat(tx, this.#t, params, now), true);
  }

  async workersList(): Promise<WorkerInfo[]> {
    return this.#read((tx, now) => parts.workersList(tx, this.#t, now));
  }

  async workerRemove(id: string): Promise<void> {
    await this.#write((tx) => parts.workerRemove(tx, this.#t, id), true);
  }

  async scheduleTickGet(schedule: string): Promise<number | null> {
    return this.#read((tx) => parts.scheduleTickGet(tx, this.#t, schedule));
  }

  async scheduleTickAdvance(params: { schedule: string; tick: number }): Promise<boolean> {
    checks.checkName(params.schedule, 'schedule');
    checks.checkInteger(params.tick, 'tick', 0);
    return this.#write((tx) => parts.scheduleTickAdvance(tx, this.#t, params), true);
  }

  async close(): Promise<void> {
    this.#waiters.notify();
    await this.#notifications?.close();
    await this.#pool.end();
  }
}
