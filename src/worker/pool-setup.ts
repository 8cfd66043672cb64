/**
 * How a worker is put together for its pool: where handlers run (the runner) and where leases
 * are renewed (the keeper). One decision, made here: inline, leases go to a thread of their own
 * (user code blocks the event loop); beside a pool of children they stay on the event loop,
 * which runs no user code.
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import { InvalidArgumentError } from '../errors.js';
import { ChildPool } from '../runtime/child-pool.js';
import { InlineRunner } from '../runtime/inline-runner.js';
import type { PoolKind, Runner } from '../runtime/runner.js';
import type { ReservedJob } from '../store/store.js';
import { LeaseKeeper, type LeaseEvents, type Leases } from './lease-keeper.js';
import { LeaseThread } from './lease-thread.js';
import type { WorkerOptions } from './options.js';

/** What of the worker these need (not the class: worker.ts imports this module). */
interface WorkerShape {
  id: string;
  pool: PoolKind;
  concurrency: number;
  leaseMs: number;
  logger: Logger;
  queues: readonly string[];
}

/** The runner of `worker.pool`; `syncPartEnded` times inline handlers' synchronous parts. */
export function makeRunner(app: Conveyor, worker: WorkerShape, options: WorkerOptions, syncPartEnded: (job: ReservedJob, startedAt: number) => void): Runner {
  if (worker.pool === 'inline') return new InlineRunner(app, worker.logger, syncPartEnded);
  if (!options.appModule) throw new InvalidArgumentError(`pool "${worker.pool}" needs appModule: the path of the module that exports your app, so each child can load it (the CLI passes --app)`);
  for (const [name, value] of [['maxTasksPerChild', options.maxTasksPerChild], ['maxMemoryPerChild', options.maxMemoryPerChild]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new InvalidArgumentError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return new ChildPool(app, {
    kind: worker.pool, size: worker.concurrency, io: app.store, logger: worker.logger,
    init: { appModule: options.appModule, storeUrl: app.storeUrl, logLevel: worker.logger.level },
    maxTasksPerChild: options.maxTasksPerChild, maxMemoryPerChildMb: options.maxMemoryPerChild,
  });
}

/**
 * The lease keeper. A store given as an object (or under a test clock) cannot be opened in a
 * thread: inline, its leases are then renewed on the event loop, and a synchronous handler
 * longer than the lease loses it.
 */
export function makeLeases(app: Conveyor, worker: WorkerShape, heartbeatMs: number, events: LeaseEvents): Leases {
  const options = { leaseMs: worker.leaseMs, heartbeatMs, registryTtlMs: Math.max(3 * heartbeatMs, 3000) };
  const url = app.storeUrl;
  if (worker.pool === 'inline' && url) return new LeaseThread({ ...options, storeUrl: url, workerId: worker.id, queues: [...worker.queues] }, events);
  return new LeaseKeeper(app.store, options, events);
}
