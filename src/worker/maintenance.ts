/**
 * A worker's maintenance loops: recovery (jobs whose lease lapsed go back to their queue; pool
 * items whose holder's lease lapsed come back; expired results are deleted) and the app's
 * reconcile loops. Each is an {@link IntervalLoop}.
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import type { Store } from '../store/store.js';
import { IntervalLoop } from './interval-loop.js';

export class Maintenance {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #recovery: IntervalLoop;
  /** One loop per reconcile registered on the app. */
  readonly #reconcile: IntervalLoop[];

  constructor(app: Conveyor, recoveryMs: number, logger: Logger) {
    this.#store = app.store;
    this.#logger = logger;
    this.#recovery = new IntervalLoop('recovery', recoveryMs, () => this.recover(), logger, 0.2);
    this.#reconcile = [...app.reconcilers.values()].map((r) => new IntervalLoop(`reconcile:${r.name}`, r.everyMs, async () => void (await r.tick()), logger, 0.1));
  }

  start(): void {
    this.#recovery.start();
    for (const loop of this.#reconcile) {
      loop.start();
      void loop.runOnce(); // at start too: what went missing while no worker ran is found now
    }
  }

  async stop(): Promise<void> {
    await this.#recovery.stop();
    await Promise.all(this.#reconcile.map((loop) => loop.stop()));
  }

  /** One recovery pass: lapsed leases, lapsed pool items, expired jobs. */
  async recover(): Promise<void> {
    const { requeued, failed } = await this.#store.jobsRecoverExpired();
    if (requeued.length) this.#logger.warn({ jobs: requeued }, `recovered ${requeued.length} job(s) whose worker was lost; they run again`);
    if (failed.length) this.#logger.error({ jobs: failed }, `failed ${failed.length} job(s) with WorkerLostError: deliveries ran out`);
    const reclaimed = await this.#store.poolsReclaimExpired();
    if (reclaimed) this.#logger.warn(`returned ${reclaimed} pool item(s) whose holder's lease lapsed`);
    await this.#store.jobsDeleteExpired();
  }
}
