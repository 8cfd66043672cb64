/** The options of a {@link Worker} (worker.ts), with their defaults. */
import type { Logger } from 'pino';
import type { Duration } from '../duration.js';
import type { PoolKind } from '../runtime/runner.js';
import type { WorkerMetrics } from './metrics.js';

/** Options of a worker. */
export interface WorkerOptions {
  /** Queues to take jobs from. @default the app's default queue and every queue its tasks use */
  queues?: readonly string[];
  /** Jobs run at once; in `threads` and `processes`, the number of children. @default 10 */
  concurrency?: number;
  /**
   * Where handlers run (Celery's `-P`): `inline` on this event loop, `threads` (worker_threads)
   * or `processes` (child processes), one child per slot. Choose `threads` or `processes` for
   * CPU-bound handlers, or to have `timeLimit` stop code that ignores `ctx.signal`.
   * @default 'inline'
   */
  pool?: PoolKind;
  /**
   * The module that exports the app, for `threads` and `processes`: each child loads it itself
   * (a handler is a function; it cannot be sent to a child). The CLI passes `--app`.
   * @example new Worker(app, { pool: 'processes', appModule: new URL('./tasks.js', import.meta.url).pathname })
   */
  appModule?: string;
  /** Replace a child after it ran this many jobs (Celery's `--max-tasks-per-child`). @default no limit */
  maxTasksPerChild?: number;
  /**
   * Replace a child whose memory is above this many MB after a job (Celery's
   * `--max-memory-per-child`, in MB): a process's resident set, a thread's heap. @default no limit
   */
  maxMemoryPerChild?: number;
  /** Report (log, metrics) a block of the event loop this long or longer (inline). @default '1s' */
  blockedThreshold?: Duration;
  /** How long a reservation lasts without renewal; a dead worker's jobs return after it. @default '30s' */
  lease?: Duration;
  /** How long a graceful shutdown waits for running jobs before releasing them. @default '30s' */
  shutdownGrace?: Duration;
  /** Longest idle wait between two looks at the store. @default '1s' */
  pollInterval?: Duration;
  /** How often leases are renewed (and revokes noticed). @default lease/3, at most 1s */
  heartbeatInterval?: Duration;
  /** How often expired leases are recovered. @default lease/2, at most 5s */
  recoveryInterval?: Duration;
  /** @default a pino logger at `info` on stderr */
  logger?: Logger;
  /** Shown as the lease owner. @default `${hostname}:${pid}:${random}` */
  workerId?: string;
  /** Prometheus metrics to count this worker's jobs in (see `WorkerMetrics`). @default none */
  metrics?: WorkerMetrics;
}
