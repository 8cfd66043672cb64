/** What the overview routes and the SSE `snapshot` event show: queues, workers, counters, throughput. */
import type { QueueStats, Store } from '../store/store.js';
import type { QueueView, Snapshot } from './schemas.js';
import type { ThroughputSampler } from './throughput.js';

/** Queues by name, each with how long its head has waited (`now - nextDueAt`). */
export function queueViews(stats: readonly QueueStats[], now: number): QueueView[] {
  return stats
    .map((s) => ({
      name: s.queue,
      counts: s.counts,
      nextDueAt: s.nextDueAt ?? null,
      oldestAgeMs: s.nextDueAt == null ? null : Math.max(0, now - s.nextDueAt),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Read everything a snapshot shows; the queue counts also feed the throughput sampler. */
export async function readSnapshot(store: Store, now: () => number, throughput: ThroughputSampler): Promise<Snapshot> {
  const [stats, workers, counters] = await Promise.all([store.queueStats(), store.workersList(), store.countersGet()]);
  throughput.observe(stats);
  return { queues: queueViews(stats, now()), workers, counters, throughput: throughput.view() };
}
