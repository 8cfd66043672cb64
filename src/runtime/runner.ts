/**
 * The runner seam: where a worker's handlers run (Celery's `-P`). The worker (the supervisor)
 * reserves, renews, settles and supervises; a runner only runs jobs it is handed.
 *
 * Pools:
 * - inline     on the worker's own event loop (inline-runner.ts). Fastest for async I/O
 *              handlers; a synchronous handler blocks the loop (not the leases: they are renewed
 *              from a thread), and nothing can stop code that ignores `ctx.signal`.
 * - threads    one worker_thread per slot (child-pool.ts). CPU-bound handlers run in parallel;
 *              a hard `timeLimit` terminates the thread.
 * - processes  one child process per slot: as threads, plus isolation from native crashes and
 *              memory of its own; costs a process per slot.
 */
import type { PoolKind, ReservedJob, WorkerPoolInfo } from '../store/store.js';
import type { RunningJob } from './run-job.js';

export const POOL_KINDS: readonly PoolKind[] = ['inline', 'threads', 'processes'];
export type { PoolKind };

export interface Runner {
  readonly kind: PoolKind;
  /** Get ready to run jobs (start children, who load the app). @throws when a child cannot load it */
  start(): Promise<void>;
  /** Run a job now, or as soon as a child is free. */
  run(job: ReservedJob): RunningJob;
  /** Stop the children (after the worker settled or released their jobs). */
  stop(): Promise<void>;
  info(): WorkerPoolInfo;
}
