/**
 * The inline pool: handlers run on the worker's own event loop (see runner.ts for when to choose
 * it). Blocks of that loop are reported (loop-monitor.ts); the leases do not depend on it.
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import type { ReservedJob, WorkerPoolInfo } from '../store/store.js';
import type { Runner } from './runner.js';
import { runJob, type RunningJob } from './run-job.js';

export class InlineRunner implements Runner {
  readonly kind = 'inline' as const;
  readonly #app: Conveyor;
  readonly #logger: Logger;
  readonly #syncPartEnded: ((job: ReservedJob, startedAt: number) => void) | undefined;
  /** Blocks of the event loop past the threshold, for the registry. */
  readonly blocked = { count: 0, seconds: 0 };

  /** @param syncPartEnded told when a handler's synchronous part returned (to time it). */
  constructor(app: Conveyor, logger: Logger, syncPartEnded?: (job: ReservedJob, startedAt: number) => void) {
    this.#app = app;
    this.#logger = logger;
    this.#syncPartEnded = syncPartEnded;
  }

  async start(): Promise<void> {}

  run(job: ReservedJob): RunningJob {
    const ended = this.#syncPartEnded;
    return runJob(this.#app, job, this.#logger, { io: this.#app.store, transactions: this.#app.store, enforceTimeLimit: true, syncPartEnded: ended && ((at) => ended(job, at)) });
  }

  async stop(): Promise<void> {}

  info(): WorkerPoolInfo {
    return { kind: 'inline', children: [], recycled: 0, crashed: 0, blocked: { count: this.blocked.count, seconds: Math.round(this.blocked.seconds * 1000) / 1000 } };
  }
}
