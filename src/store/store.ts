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

/** A job as the client submits it. */
export interface NewJob {
  id: string;
  task: string;
  queue: string;
  /** JSON text of the args array. */
  argsJson: string;
  /** Higher runs first. */
  priority: number;
  /** Epoch ms before which the job must not start (its eta). */
  runAt: number;
  /** Epoch ms after which the job must not start; it is REVOKED instead. */
  expiresAt: number | null;
  /** Lost deliveries of one attempt before the job fails with WorkerLostError. */
  maxDeliveries: number;
}

/** What `jobsEnqueue` answers for each job. */
export interface EnqueueResult {
  id: string;
  created: boolean;
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
}

/** A worker's report of how a delivery ended; each is checked against its token. */
export type Settlement =
  | { kind: 'complete'; id: string; token: number; resultJson: string | null; resultTtlMs: number }
  | { kind: 'fail'; id: string; token: number; error: ErrorInfo }
  | { kind: 'retry'; id: string; token: number; error: ErrorInfo; runAt: number }
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
}

/** Filters of {@link Store.jobsList}. */
export interface ListParams {
  states?: readonly JobState[];
  queue?: string;
  task?: string;
  /** Only jobs whose run time is after this epoch ms (the `scheduled` view). */
  runAfter?: number;
  limit: number;
}

/** Job counts of one queue. */
export interface QueueStats {
  queue: string;
  counts: Record<JobState, number>;
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
}

/** The contract every engine implements. All times are epoch ms from the store's clock. */
export interface Store {
  readonly capabilities: StoreCapabilities;
  /** A display form of where the store is (for banners and logs), without credentials. */
  readonly description: string;

  /**
   * Add jobs, all or none. An id the store already holds (or repeated in the batch) is left as
   * it is and answers `created: false`, so re-sending with the same `taskId` is harmless.
   */
  jobsEnqueue(jobs: readonly NewJob[]): Promise<EnqueueResult[]>;
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
  /** Put a FAILURE or REVOKED job back to PENDING with a fresh retry budget. */
  jobRetry(id: string): Promise<'retried' | 'not-final' | 'missing'>;
  /** Return jobs whose lease expired to PENDING, or fail them when their deliveries ran out. */
  jobsRecoverExpired(): Promise<RecoverResult>;
  /** Delete finished jobs whose result TTL has passed; answers how many. */
  jobsDeleteExpired(): Promise<number>;
  /** One job, or null when the id is unknown (or its result expired). */
  jobGet(id: string): Promise<JobRecord | null>;
  /**
   * Jobs matching filters, oldest first: by enqueue time, FIFO within a queue (jobs of different
   * queues enqueued in the same millisecond have no set order).
   */
  jobsList(params: ListParams): Promise<JobRecord[]>;
  /** Delete the waiting (PENDING and RETRY) jobs of a queue; answers how many. */
  queuePurge(queue: string): Promise<number>;
  /** Counts per state of every queue that has jobs. */
  queueStats(): Promise<QueueStats[]>;
  /** Resolve when the store may have changed (a write, a scheduled job coming due) or at the timeout. */
  waitForChange(params: WaitParams): Promise<void>;
  close(): Promise<void>;
}

/** Options every engine accepts. */
export interface StoreOptions {
  /** The clock, injectable for tests. @default Date.now */
  clock?: () => number;
  /** Result TTL of revoked jobs. @default 24 h */
  revokedTtlMs?: number;
}
