/**
 * Prometheus metrics of the serve process (`GET /metrics`), read from the store on each scrape,
 * so every process's work shows, not only this one's:
 *
 * - conveyor_queue_jobs{queue,state}           jobs per queue and state
 * - conveyor_queue_oldest_age_seconds{queue}   how long the job next in line has waited (now - nextDueAt)
 * - conveyor_<counter>                         the exactly-once counters (COUNTERS in src/store/store.ts):
 *                                              duplicates suppressed, steps replayed, stale writes refused
 *                                              (lease losses caught), callbacks deduplicated, double
 *                                              releases, pool items reclaimed
 * - conveyor_workers                           live workers (heartbeat not expired)
 * - conveyor_worker_active_jobs{worker}        jobs each live worker runs now
 *
 * The registry is this server's own, never prom-client's global one, so an app that registers
 * the routes in its own Fastify keeps its metrics apart (`processMetrics` adds Node's defaults).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { JOB_STATES } from '../states.js';
import { COUNTERS, type Counters, type Store } from '../store/store.js';

const HELP: Record<keyof Counters, string> = {
  duplicates_suppressed_total: 'Enqueues that created nothing: the id was stored or the idempotency key held.',
  steps_replayed_total: 'ctx.step calls answered from the record instead of running the step again.',
  stale_writes_refused_total: 'Fenced writes refused because another delivery replaced the writer (lease losses caught).',
  callbacks_deduplicated_total: 'Callbacks and chord results not enqueued again because they already were.',
  double_release_total: 'Pool releases of an item the releaser no longer held.',
  pool_items_reclaimed_total: "Pool items returned because their holder's lease lapsed.",
};

export class ApiMetrics {
  readonly registry = new Registry();
  readonly #store: () => Store;
  readonly #now: () => number;
  readonly #queueJobs: Gauge<'queue' | 'state'>;
  readonly #queueAge: Gauge<'queue'>;
  readonly #workers: Gauge;
  readonly #workerActive: Gauge<'worker'>;
  readonly #counters: Map<keyof Counters, Counter>;
  #inFlight: Promise<string> | undefined;

  constructor(store: () => Store, now: () => number, options: { processMetrics?: boolean } = {}) {
    this.#store = store;
    this.#now = now;
    const registers = [this.registry];
    this.#queueJobs = new Gauge({ name: 'conveyor_queue_jobs', help: 'Jobs per queue and state.', labelNames: ['queue', 'state'], registers });
    this.#queueAge = new Gauge({
      name: 'conveyor_queue_oldest_age_seconds', help: 'How long the job next in line of each queue has waited past its run time.', labelNames: ['queue'], registers,
    });
    this.#workers = new Gauge({ name: 'conveyor_workers', help: 'Live workers (heartbeat not expired).', registers });
    this.#workerActive = new Gauge({ name: 'conveyor_worker_active_jobs', help: 'Jobs each live worker runs now.', labelNames: ['worker'], registers });
    this.#counters = new Map(COUNTERS.map((name) => [name, new Counter({ name: `conveyor_${name}`, help: HELP[name], registers })]));
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Read the store and render the Prometheus text. Scrapes at the same time share one read. */
  render(): Promise<string> {
    this.#inFlight ??= this.#render().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #render(): Promise<string> {
    const store = this.#store();
    const [stats, counters, workers] = await Promise.all([store.queueStats(), store.countersGet(), store.workersList()]);
    const now = this.#now();
    // Reset first: a queue that has no jobs any more must not keep its last values.
    this.#queueJobs.reset();
    this.#queueAge.reset();
    for (const q of stats) {
      for (const state of JOB_STATES) this.#queueJobs.set({ queue: q.queue, state }, q.counts[state]);
      if (q.nextDueAt != null) this.#queueAge.set({ queue: q.queue }, Math.max(0, now - q.nextDueAt) / 1000);
    }
    for (const [name, counter] of this.#counters) {
      counter.reset();
      counter.inc(counters[name] ?? 0);
    }
    this.#workers.set(workers.length);
    this.#workerActive.reset();
    for (const w of workers) this.#workerActive.set({ worker: w.id }, w.active.length);
    return this.registry.metrics();
  }
}
