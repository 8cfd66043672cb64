/**
 * The Store contract: the only place state lives, and the only seam between the client, the
 * worker and a storage engine (SQLite, Redis, Postgres).
 *
 * Terminology:
 * - job       one request to run a task (see {@link NewJob}).
 * - lease     a worker's reservation of a job, until `leaseExpiresAt`; renewed while it runs.
 * - token     the fencing token: a per-job counter that grows with every delivery. Every write a
 *             worker makes about a job names the token it was given; a write with a token that is
 *             no longer current is refused, so a stale worker cannot overwrite a newer outcome.
 * - delivery  one reservation of a job. A job whose lease lapses is delivered again; after
 *             `maxDeliveries` lost deliveries of one attempt it fails with WorkerLostError.
 * - attempt   one try at running the task; a retry starts the next attempt.
 *
 * Every method is one atomic transition: it happens whole or not at all, whatever crashes.
 * Only domain types cross this interface; no SQL rows or Redis keys leak out of an engine.
 * Args and results cross as JSON text, checked and serialized once by the client.
 */
import type { ErrorInfo } from '../errors.js';
import type { JobState } from '../states.js';

/**
 * Enqueue dedup: while a job holds `key`, enqueueing another job with the same key creates
 * nothing and answers the holder's id.
 */
export interface Idempotency {
  key: string;
  /**
   * How long the key stays held after its job becomes final. null: released the moment the job
   * is final (SUCCESS, FAILURE or REVOKED), so only duplicates while it waits or runs join it.
   */
  ttlMs: number | null;
}

/** When a callback fires: Celery's `link` (success), `link_error` (failure) and `finally` (either). */
export type CallbackOn = 'success' | 'failure' | 'final';

/** A job the store enqueues, in the same transition, when another becomes final. */
export interface Callback {
  on: CallbackOn;
  /**
   * Prepend the parent's result to the callback's args (`on: 'success'` only), as Celery's
   * `link` and `chain` do; false for immutable signatures.
   */
  passResult: boolean;
  /** The job to enqueue (its id is its dedup key; it runs at once, with no expiry). */
  job: CallbackJob;
  /**
   * The identity of a continuation, set on a chain's links (not on a task's or a call's own
   * `link`): a digest of what it runs, whatever its ids. When the send carrying it is
   * deduplicated (its id stored, or its key held), it follows the holder — see
   * {@link JobRecord.followers} — unless the holder has a callback with the same `join`
   * already: the same chain sent twice runs its next steps once, a different chain on the same
   * first job runs its own.
   */
  join?: string;
}

/** The job a callback or a chord enqueues. */
export type CallbackJob = Omit<NewJob, 'runAt' | 'delayMs' | 'expiresAt' | 'expiresInMs' | 'idempotency' | 'chord'>;

/**
 * A job's place in a chord: when every member of the chord is final, the store enqueues
 * `callback` ONCE, with the members' results in index order prepended to its args. If any
 * member did not succeed, the callback is recorded as FAILURE with a ChordError instead of run.
 * A member whose send is deduplicated (its id stored, its key held) is not created: its place
 * follows the holder, whose outcome fills it (see {@link JobRecord.followers}).
 */
export interface ChordMember {
  /** 0-based position of this member's result. */
  index: number;
  /** Members in the chord. */
  size: number;
  /** The chord's callback; its id is the chord's id. Every member carries the same one. */
  callback: CallbackJob;
}

/** What a callback job knows of the job that fired it (ctx.parent in the handler). */
export interface ParentInfo {
  id: string;
  task: string;
  /** SUCCESS, FAILURE or REVOKED. */
  state: JobState;
  /** JSON text of the parent's result when it succeeded, else null. */
  resultJson: string | null;
  error: ErrorInfo | null;
}

/** A job as the client submits it. */
export interface NewJob {
  id: string;
  task: string;
  queue: string;
  /** JSON text of the args array. */
  argsJson: string;
  /** Higher runs first. */
  priority: number;
  /**
   * Epoch ms on the store's clock before which the job must not start: an eta. Null: `delayMs`
   * after the store records it, measured on the store's clock (a countdown, or at once).
   */
  runAt: number | null;
  /** With `runAt` null: how long after it is recorded the job may start. @default 0 */
  delayMs?: number;
  /**
   * Epoch ms on the store's clock after which the job must not start; it is REVOKED instead.
   * Null: `expiresInMs` after the store records it, or never when that is absent too.
   */
  expiresAt: number | null;
  /** With `expiresAt` null: how long after it is recorded the job expires. @default never */
  expiresInMs?: number;
  /** Lost deliveries of one attempt before the job fails with WorkerLostError. */
  maxDeliveries: number;
  /** Enqueue dedup by key. @default none */
  idempotency?: Idempotency | null;
  /**
   * Jobs to enqueue when this one first becomes final, in that same transition: `success` ones
   * on SUCCESS, `failure` ones on FAILURE or REVOKED, `final` ones on either. They fire at most
   * once per job, ever: a dead-letter retry that ends again fires nothing more.
   */
  callbacks?: readonly Callback[];
  /** Membership of a chord. @default none */
  chord?: ChordMember | null;
}

/** What `jobsEnqueue` answers for each job. */
export interface EnqueueResult {
  /** The job's id; for a suppressed duplicate, the id of the job that holds the key. */
  id: string;
  /**
   * False when nothing was created: the id was already stored, or the idempotency key is held
   * (then `id` is the holder's). Either counts in `duplicates_suppressed_total`.
   */
  created: boolean;
}

/** Options of {@link Store.jobsEnqueue}. */
export interface EnqueueOptions {
  /**
   * The caller's open database transaction: the jobs are inserted in it and exist only if it
   * commits (PostgreSQL only; other engines refuse it with InvalidArgumentError). A node-postgres
   * client after BEGIN, a postgres.js transaction, or anything with `query(text, values)`
   * answering `{ rows }`. The store leaves BEGIN, COMMIT and ROLLBACK to the caller.
   */
  tx?: unknown;
}

/** Params of {@link Store.jobsReserve}. */
export interface ReserveParams {
  /** Queues to take from; order across them is priority, then run time, then FIFO, as within one. */
  queues: readonly string[];
  /** The lease owner, shown in `info().worker`. */
  workerId: string;
  /** Most jobs to reserve. */
  limit: number;
  leaseMs: number;
}

/** A job reserved by a worker, with its lease. */
export interface ReservedJob {
  id: string;
  task: string;
  queue: string;
  argsJson: string;
  /** 1-based number of the attempt this delivery runs. */
  attempt: number;
  /** Deliveries of this attempt, this one included. */
  deliveries: number;
  /** The fencing token of this delivery. */
  token: number;
  enqueuedAt: number;
  leaseExpiresAt: number;
  /** Set on jobs enqueued by a callback: the job that fired it. */
  parent: ParentInfo | null;
}

/** A worker's report of how a delivery ended; each is checked against its token. */
export type Settlement =
  | { kind: 'complete'; id: string; token: number; resultJson: string | null; resultTtlMs: number }
  | { kind: 'fail'; id: string; token: number; error: ErrorInfo }
  /** The next attempt may start `delayMs` after the store records the retry (its clock). */
  | { kind: 'retry'; id: string; token: number; error: ErrorInfo; delayMs: number }
  /** Give the job back unfinished (graceful shutdown): PENDING again, the delivery not counted. */
  | { kind: 'release'; id: string; token: number };

/** What {@link Store.jobsSettleAndReserve} answers. */
export interface SettleAndReserveResult {
  /** One per settlement, in order. */
  outcomes: WriteOutcome[];
  /** The jobs reserved after settling. */
  jobs: ReservedJob[];
}

/** Why a write about a job was refused. */
export type LossReason = 'stale' | 'revoked' | 'final' | 'missing';

/** The answer to one settlement or renewal. */
export type WriteOutcome = { id: string; ok: true } | { id: string; ok: false; reason: LossReason; terminate: boolean };

/** What {@link Store.jobRetry} answers. */
export type RetryAnswer = 'retried' | 'not-final' | 'missing' | 'key-held' | 'chord-failed';

/** A lease a worker holds. */
export interface LeaseRef {
  id: string;
  token: number;
}

/** Everything the store knows about a job. */
export interface JobRecord {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  argsJson: string;
  /** JSON text of the result, once SUCCESS (null when the task ignores results). */
  resultJson: string | null;
  /** The last error: of the failed attempt (RETRY, FAILURE) or why it was revoked. */
  error: ErrorInfo | null;
  priority: number;
  attempt: number;
  deliveries: number;
  token: number;
  /** The worker holding, or that last held, the job. */
  worker: string | null;
  enqueuedAt: number;
  runAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  leaseExpiresAt: number | null;
  expiresAt: number | null;
  maxDeliveries: number;
  idempotencyKey: string | null;
  callbacks: Callback[];
  chord: ChordMember | null;
  /**
   * What deduplicated sends left to follow this job: their chord places and their chains'
   * next steps (callbacks with a `join`). They fire at the job's next final state — at once, in
   * the enqueue, if it was final when they came — with this job as parent and its outcome, each
   * once, and are then dropped (so, unlike `callbacks`, they fire after a dead-letter retry too).
   */
  followers: { callbacks: Callback[]; chords: ChordMember[] };
  parent: ParentInfo | null;
  /** The last progress the running (or last) delivery reported, or null. */
  progress: JobProgress | null;
  /**
   * Earlier deliveries that did not end the job (retried, lease lost, released at shutdown),
   * oldest first. The current or last delivery is the record itself (token, worker, startedAt,
   * finishedAt): the common path (one delivery, done) writes no history.
   */
  history: DeliveryRecord[];
}

/** One delivery of a job that ended without ending the job. */
export interface DeliveryRecord {
  token: number;
  attempt: number;
  worker: string | null;
  startedAt: number | null;
  /** When it ended: its retry settlement, its lease recovery, its release. */
  endedAt: number;
  outcome: 'retry' | 'lost' | 'released';
  /** The error of a retried attempt. */
  error: ErrorInfo | null;
}

/** What `ctx.progress` reported. */
export interface JobProgress {
  /** 0 to 1. */
  fraction: number;
  /** JSON text of the extra info, or null. */
  infoJson: string | null;
  /** When it was reported (store clock). */
  at: number;
}

/** A worker's registration, written by its heartbeat and shown by `inspect workers` and the API. */
export interface WorkerInfo {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  startedAt: number;
  /** The store's clock at the last heartbeat (set by the store). */
  lastSeenAt: number;
  /** Jobs it runs now. */
  active: { id: string; task: string; startedAt: number }[];
  /** Jobs it settled since it started, by outcome (succeeded, failed, retried, released, lost). */
  counts: Record<string, number>;
  /** Where it runs handlers; absent in records of workers older than pools. */
  pool?: WorkerPoolInfo;
}

/** Where a worker runs handlers (`conveyor worker --pool`). */
export type PoolKind = 'inline' | 'threads' | 'processes';

/** A worker's pool, as its registration shows it. */
export interface WorkerPoolInfo {
  kind: PoolKind;
  /** Its children (threads or processes; none inline). */
  children: PoolChildInfo[];
  /** Children replaced after their task or memory limit (--max-tasks-per-child, --max-memory-per-child). */
  recycled: number;
  /** Children that died running a job (crash, exit, out of memory) or were stopped by a time limit or a revoke. */
  crashed: number;
  /** Inline: how often the event loop was blocked past the threshold, and for how long in all (seconds). */
  blocked?: { count: number; seconds: number };
}

/** One child of a pool. */
export interface PoolChildInfo {
  /** 1-based slot number; a replacement keeps the number of the child it replaced. */
  slot: number;
  /** Process id (processes) or thread id (threads). */
  pid: number;
  /** The job it runs now. */
  job: { id: string; task: string } | null;
  /** Jobs it ran since it started. */
  jobs: number;
  /** Its memory after its last job, in MB (resident set of a process; heap of a thread). */
  memoryMb: number;
}

/** A step result recorded by `ctx.step`. */
export interface StepRecord {
  name: string;
  /** JSON text of what the step's function returned (`null` for undefined). */
  resultJson: string;
  /** The fencing token of the delivery that recorded it. */
  token: number;
  recordedAt: number;
}

/** What a fenced read or write of a step answers. */
export type StepOutcome =
  | { ok: true; /** The recorded result; null when the step is not recorded (jobStepGet only). */ resultJson: string | null }
  | { ok: false; reason: LossReason; terminate: boolean };

/** The counters of suppressed duplicates; every engine keeps them exactly, inside its transitions. */
export const COUNTERS = [
  /** jobsEnqueue calls that created nothing: the id was stored or the idempotency key held. */
  'duplicates_suppressed_total',
  /** ctx.step calls answered from the record instead of running the step again. */
  'steps_replayed_total',
  /** Fenced calls (settle, renew, step get and put) refused because another delivery replaced the caller's ('stale'). */
  'stale_writes_refused_total',
  /** Callbacks and chord results not enqueued or counted again because they already were. */
  'callbacks_deduplicated_total',
  /** Pool releases of an item the releaser no longer held (a second release, or a lapsed lease). */
  'double_release_total',
  /** Pool items returned because their holder's lease lapsed. */
  'pool_items_reclaimed_total',
] as const;
export type CounterName = (typeof COUNTERS)[number];
export type Counters = Record<CounterName, number>;

/** An item of a pool held by someone, fenced by `token`. */
export interface PoolLease {
  pool: string;
  item: string;
  /** Grows with every acquire of the pool; a release or renewal naming an old token is refused. */
  token: number;
  /** The lease has lapsed once the clock is past this (as for job leases: `expiresAt < now`). */
  expiresAt: number;
}

/** One item of a pool and who holds it. */
export interface PoolItem {
  item: string;
  /** Null when free. */
  holder: string | null;
  token: number | null;
  expiresAt: number | null;
}

/** Filters of {@link Store.jobsList}. */
export interface ListParams {
  states?: readonly JobState[];
  queue?: string;
  task?: string;
  /** Only jobs whose run time is after this epoch ms (the `scheduled` view). */
  runAfter?: number;
  limit: number;
  /** Skip this many matching jobs first (paging). @default 0 */
  offset?: number;
  /** Newest first instead of oldest first. @default false */
  newestFirst?: boolean;
}

/** Job counts of one queue. */
export interface QueueStats {
  queue: string;
  counts: Record<JobState, number>;
  /**
   * The run time of the job next in line (the due waiting job a reserve would take first), or
   * null when no job is due: `now - nextDueAt` is how long the head of the queue has waited.
   */
  nextDueAt: number | null;
}

/** What {@link Store.jobsRecoverExpired} did. */
export interface RecoverResult {
  /** Jobs put back to PENDING for another delivery. */
  requeued: string[];
  /** Jobs failed with WorkerLostError: their deliveries ran out. */
  failed: string[];
}

/** Params of {@link Store.waitForChange}. */
export interface WaitParams {
  /** Resolve no later than this. */
  timeoutMs: number;
  /** Queues whose scheduled jobs should cut the wait short when they come due. */
  queues?: readonly string[];
  signal?: AbortSignal;
}

/** What an engine can do beyond the contract. */
export interface StoreCapabilities {
  /** `waitForChange` wakes on writes from other processes, not only on its timeout. */
  crossProcessWakeups: boolean;
  /**
   * Calls are served by another process (a server) that works while this one runs JavaScript,
   * so a worker keeps two settle-and-reserve exchanges in flight to overlap the two. An
   * in-process engine (SQLite) gains nothing from it and would commit smaller batches.
   */
  remoteCalls: boolean;
  /**
   * The store lives in a database the caller writes to (PostgreSQL): `{ tx }` enqueues in the
   * caller's transaction, and {@link Store.jobCompleteInTransaction} runs a handler's writes in one.
   */
  callerTransactions: boolean;
}

/**
 * The client of a database transaction a handler writes in (`ctx.transaction`): on PostgreSQL, a
 * node-postgres `PoolClient` between BEGIN and COMMIT. Do not COMMIT or ROLLBACK it yourself.
 */
export interface TransactionClient {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** What {@link Store.jobCompleteInTransaction} answers: the work's value, or why the delivery's lease is gone. */
export type TransactionOutcome<T> = { ok: true; value: T } | { ok: false; reason: LossReason; terminate: boolean };

/**
 * The contract every engine implements. All times are epoch ms on the store's clock, and every
 * decision that compares them (is a job due, has a lease or a pool item lapsed, is a key still
 * held, has a result expired) is made by the store, on its clock, inside the transition: callers
 * send durations (`leaseMs`, `delayMs`, `ttlMs`), never their own `now`, so a caller whose
 * clock is off cannot take healthy work or hold what has lapsed.
 *
 * Finishing a job: every transition that makes a job final (a `complete`, `fail` settlement; a
 * lease recovered past `maxDeliveries`; a revoke; an expiry at reserve) does, in that same
 * transition and only the first time the job is ever final:
 * - enqueue its callbacks for that outcome (see {@link NewJob.callbacks}), each with
 *   `parent` set and, for `passResult`, the parent's result prepended to its args. A callback
 *   whose id is already stored is not enqueued again (`callbacks_deduplicated_total` + 1);
 * - record its outcome in its chord (see {@link ChordMember}); the member that completes the
 *   chord enqueues the chord's callback.
 * A later final state of the same job (after a dead-letter `jobRetry`) fires nothing and counts
 * each callback it skips in `callbacks_deduplicated_total`. The idempotency key is released
 * (or starts its TTL) in that transition too.
 *
 * Engines that shard by queue (Redis Cluster) may make a callback or chord result bound for
 * another shard visible shortly after the transition (an outbox relayed by the same call, or by
 * the next `jobsRecoverExpired` after a crash), never twice and never lost.
 */
export interface Store {
  readonly capabilities: StoreCapabilities;
  /** A display form of where the store is (for banners and logs), without credentials. */
  readonly description: string;

  /**
   * Add jobs, all or none, in batch order. An id the store already holds (or repeated in the
   * batch) is left as it is and answers `created: false`, so re-sending with the same `taskId` is
   * harmless. A job whose `idempotency.key` is held answers the holder's id, `created: false`.
   * A key is held by the latest job enqueued with it while that job exists (its result TTL has
   * not passed) and is not final, or is final and `finishedAt + ttlMs` is still ahead. Every
   * `created: false` counts in `duplicates_suppressed_total`.
   */
  jobsEnqueue(jobs: readonly NewJob[], options?: EnqueueOptions): Promise<EnqueueResult[]>;
  /**
   * Lease up to `limit` due jobs: highest priority first, then earliest run time, then FIFO.
   * Each gets a new token. Due jobs past their `expiresAt` become REVOKED instead.
   */
  jobsReserve(params: ReserveParams): Promise<ReservedJob[]>;
  /** Extend leases; answers one outcome per lease (a lost lease says why). */
  jobsRenew(params: { leases: readonly LeaseRef[]; leaseMs: number }): Promise<WriteOutcome[]>;
  /** Record how deliveries ended, in one transition; one outcome per settlement, in order. */
  jobsSettle(settlements: readonly Settlement[]): Promise<WriteOutcome[]>;
  /**
   * `jobsSettle`, then `jobsReserve` (unless `reserve` is null), in ONE transition: a worker's
   * finished jobs and its next jobs cost one commit, not two. Each is exactly as the two methods.
   */
  jobsSettleAndReserve(params: { settlements: readonly Settlement[]; reserve: ReserveParams | null }): Promise<SettleAndReserveResult>;
  /**
   * Cancel a job that is not final. A running job's lease is lost at once (its outcome will be
   * refused); with `terminate` its worker also aborts the running handler.
   */
  jobRevoke(params: { id: string; terminate: boolean; reason?: string }): Promise<'revoked' | 'final' | 'missing'>;
  /**
   * Put a FAILURE or REVOKED job back to PENDING with a fresh retry budget (the dead-letter
   * retry); it becomes its idempotency key's holder again. Refused with 'key-held' when another
   * job holds its key now (two live jobs would share one key). A chord's callback recorded as
   * FAILURE with a ChordError runs with the members' results prepended, each member's as it is
   * now (a failed member retried since counts with its new result); refused with 'chord-failed'
   * while a member has not succeeded, or its result is gone.
   */
  jobRetry(id: string): Promise<RetryAnswer>;
  /** Return jobs whose lease expired to PENDING, or fail them when their deliveries ran out. */
  jobsRecoverExpired(): Promise<RecoverResult>;
  /** Delete finished jobs whose result TTL has passed, with their steps; answers how many. */
  jobsDeleteExpired(): Promise<number>;
  /** One job, or null when the id is unknown (or its result expired). */
  jobGet(id: string): Promise<JobRecord | null>;
  /**
   * Jobs matching filters, oldest first: by enqueue time, FIFO within a queue (jobs of different
   * queues enqueued in the same millisecond have no set order).
   */
  jobsList(params: ListParams): Promise<JobRecord[]>;
  /** Delete the waiting (PENDING and RETRY) jobs of a queue, with their steps (no callbacks fire); answers how many. */
  queuePurge(queue: string): Promise<number>;
  /** Counts per state of every queue that has jobs. */
  queueStats(): Promise<QueueStats[]>;
  /** Resolve when the store may have changed (a write, a scheduled job coming due) or at the timeout. */
  waitForChange(params: WaitParams): Promise<void>;

  /**
   * Read a step of a job, fenced: a token that is not the job's current delivery is refused.
   * A recorded step counts in `steps_replayed_total`.
   */
  jobStepGet(params: { id: string; token: number; name: string }): Promise<StepOutcome>;
  /**
   * Record a step's result, fenced (a stale token counts in `stale_writes_refused_total`). The
   * first record wins: if the step is already recorded, it is kept and answered.
   */
  jobStepPut(params: { id: string; token: number; name: string; resultJson: string }): Promise<StepOutcome>;
  /**
   * Run `work` in one database transaction that also completes the delivery `lease` with the
   * result `work` answers, exactly as a `complete` settlement would (callbacks, chord, key):
   * `work`'s writes and the job's SUCCESS commit together, or neither does. Refused, as a
   * settlement is, when the token does not hold the lease — before `work` runs, or after it (its
   * writes are then rolled back; a stale token counts in `stale_writes_refused_total`). An error
   * `work` throws rolls the transaction back and is the answer (the lease is still held).
   * @throws InvalidArgumentError on an engine without `capabilities.callerTransactions`.
   */
  jobCompleteInTransaction<T>(
    lease: LeaseRef & { resultTtlMs: number },
    work: (tx: TransactionClient) => Promise<{ value: T; resultJson: string | null }>,
  ): Promise<TransactionOutcome<T>>;
  /** The recorded steps of a job, in the order they were recorded (empty for an unknown id). */
  jobSteps(id: string): Promise<StepRecord[]>;

  /** Add items to a pool (created on first use); answers how many were new. */
  poolAdd(params: { pool: string; items: readonly string[] }): Promise<number>;
  /** Remove items; a held item leaves when it is released. Answers how many were in the pool. */
  poolRemove(params: { pool: string; items: readonly string[] }): Promise<number>;
  /**
   * Take a free item (the one free longest), after returning items whose lease lapsed (counted in
   * `pool_items_reclaimed_total`). Null when none is free.
   */
  poolAcquire(params: { pool: string; holder: string; ttlMs: number }): Promise<PoolLease | null>;
  /** Extend a lease to `ttlMs` from now; answers its new `expiresAt`, or null when it is no longer held with that token. */
  poolRenew(params: { pool: string; item: string; token: number; ttlMs: number }): Promise<number | null>;
  /**
   * Give an item back. 'not-held' (and `double_release_total` + 1, nothing changed) when the
   * item is not held with this token: released already, or lapsed and taken by someone else.
   */
  poolRelease(params: { pool: string; item: string; token: number }): Promise<'released' | 'not-held'>;
  /** The items of a pool by item name, free and held (lapsed leases are reported as they are stored). */
  poolItems(pool: string): Promise<PoolItem[]>;
  /** Return lapsed items of every pool to their pool; answers how many. */
  poolsReclaimExpired(): Promise<number>;

  /** The exactly-once counters, summed over the whole store (every process). */
  countersGet(): Promise<Counters>;

  /**
   * Record a running job's progress, fenced like a settlement (a stale token is refused and
   * counted in `stale_writes_refused_total`). Cleared when the job is reserved again.
   */
  jobProgress(params: { id: string; token: number; fraction: number; infoJson: string | null }): Promise<WriteOutcome>;

  /** Register or refresh a worker (`lastSeenAt` is set to the store's now); it is listed until `ttlMs` passes without another heartbeat. */
  workersHeartbeat(params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }): Promise<void>;
  /** The workers whose last heartbeat has not expired, by id. */
  workersList(): Promise<WorkerInfo[]>;
  /** Forget a worker (it shut down). */
  workerRemove(id: string): Promise<void>;

  /** The last tick (epoch ms) beat fired for a schedule, or null if it never fired. */
  scheduleTickGet(schedule: string): Promise<number | null>;
  /** Record that `tick` fired, if later than the recorded one; answers whether it was later. */
  scheduleTickAdvance(params: { schedule: string; tick: number }): Promise<boolean>;
  close(): Promise<void>;
}

/** Options every engine accepts. */
export interface StoreOptions {
  /**
   * A clock for tests: when given, the store reads time from it alone (a fake clock the test
   * moves by hand). Without it every time decision is made on the store's own clock — Redis'
   * `TIME`, inside the script that decides — so processes whose clocks disagree agree on what is
   * due and what has lapsed. SQLite lives on one machine and reads that machine's clock.
   * @default the store's own clock
   */
  clock?: () => number;
  /** Result TTL of revoked jobs. @default 24 h */
  revokedTtlMs?: number;
}
