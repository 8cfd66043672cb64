/**
 * The four sides of the PostgreSQL bench behind one shape, so every scenario runs the same code
 * on Conveyor's PostgreSQL store and on each anchor:
 *
 * - side   one queue library (`postgres-conveyor.ts`, `postgres-anchor-sides.ts`).
 * - space  one fresh schema of a side on the shared PostgreSQL, unique to the run and the
 *          measurement, created by the side when it opens and dropped by the driver after it.
 */
import type pg from 'pg';
import type { AnchorName } from './postgres-anchors.js';

export type PgSideName = 'conveyor' | AnchorName;

/** Every side, in table order. */
export const PG_SIDES: readonly PgSideName[] = ['conveyor', 'bullmq', 'pgboss', 'graphile'];

/** Jobs per bulk call (Conveyor's `store.jobsEnqueue`, `addBulk`, `insert`, `addJobs`). */
export const BULK = 1_000;

/** When one finished job was enqueued and started, epoch ms, as its side recorded them. */
export interface StartTimes {
  enqueuedAt: number;
  startedAt: number;
}

export interface PgSpace {
  readonly schema: string;
  /** Send `n` no-op jobs (args `i`) in calls of {@link BULK}. */
  enqueueBulk(n: number): Promise<void>;
  /** Send one no-op job (the latency producer does not wait for one before the next). */
  send(i: number): Promise<unknown>;
  /**
   * Send one no-op job inside the caller's open transaction on `client` (after BEGIN); the job
   * exists only if it commits. Absent: the side cannot join a caller's transaction.
   */
  sendInTx?: (client: pg.ClientBase, i: number) => Promise<unknown>;
  /** Jobs waiting to start. */
  waiting(): Promise<number>;
  /** How to start a worker process on this space (the driver appends `--report`). */
  workerCommand(concurrency: number): { script: string; args: string[] };
  /** Enqueue and start times of the finished jobs (read after the worker process stopped). */
  startTimes(): Promise<StartTimes[]>;
  /** Close this side's connections (the driver drops the schema). */
  close(): Promise<void>;
}

export interface PgSide {
  readonly name: PgSideName;
  /** Library and version, for the results. */
  readonly label: string;
  /** A fresh space in `schema` (which does not exist yet), migrated and connected before it returns. */
  open(schema: string): Promise<PgSpace>;
}
