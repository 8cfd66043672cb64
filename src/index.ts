/**
 * Conveyor: a distributed task queue for TypeScript.
 * At-least-once delivery, exactly-once effects, nothing lost.
 */
export { Conveyor, type ConveyorOptions } from './app.js';
export { Task, type TaskOptions, type TaskHandler, type FailureInfo } from './task.js';
export type { TaskContext, RetryOptions, ParentJob } from './context.js';
export { Signature, chain, group, chord, ChainResult, GroupResult } from './canvas.js';
export { Pool, PoolHandle, type AcquireOptions } from './pool.js';
export { Reconciler, type ReconcileOptions, type ReconcileReport } from './scheduler/reconcile.js';
export { Schedule, type ScheduleOptions, type MissedTicks } from './scheduler/schedule.js';
export { Beat, type BeatOptions, type BeatReport } from './scheduler/beat.js';
export { AsyncResult, type TaskInfo, type TaskProgress, type GetOptions } from './result.js';
export type { Json } from './message.js';
export type { ApplyOptions } from './canvas.js';
export type { RetryPolicy, BackoffOptions, ErrorClass } from './retry.js';
export { backoffDelay } from './retry.js';
export type { Duration } from './duration.js';
export { JOB_STATES, FINAL_STATES, isFinal, type JobState } from './states.js';
export { Worker, type WorkerOptions } from './worker/worker.js';
export { WorkerMetrics, MetricsServer, type WorkerMetricsOptions, type SettleOutcome } from './worker/metrics.js';
export { openStore, parseStoreUrl, DEFAULT_STORE_URL } from './store/open.js';
export type * from './store/store.js';
export { COUNTERS } from './store/store.js';
export * from './errors.js';
