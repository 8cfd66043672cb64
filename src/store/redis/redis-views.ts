/**
 * Read-only views across queues (listings, per-state counts, the exactly-once counters). Each
 * reads every queue's keys in turn, not in one snapshot: Cluster has no atomic read across slots,
 * and these feed dashboards and tests, not decisions.
 */
import { JOB_STATES } from '../../states.js';
import { COUNTERS, type Counters, type JobRecord, type ListParams, type QueueStats } from '../store.js';
import { call, type Client } from './connection.js';
import type { JobLocator } from './redis-locator.js';
import { seqOf, toRecord } from './records.js';

export class RedisViews {
  readonly #client: Client;
  readonly #description: string;
  readonly #locator: JobLocator;
  readonly #now: () => Promise<number>;

  /** @param now the store's clock (a view compares times, it decides nothing). */
  constructor(client: Client, description: string, locator: JobLocator, now: () => Promise<number>) {
    this.#client = client;
    this.#description = description;
    this.#locator = locator;
    this.#now = now;
  }

  async jobsList(params: ListParams): Promise<JobRecord[]> {
    const states = new Set(params.states?.length ? params.states : JOB_STATES);
    const queues = params.queue !== undefined ? [params.queue] : await this.#locator.queues();
    const found: { record: JobRecord; seq: number }[] = [];
    for (const queue of queues) {
      const base = this.#locator.base(queue);
      const ids = await call(this.#description, () => this.#indexedIds(base, states));
      const hashes = await call(this.#description, () => Promise.all(ids.map((id) => this.#client.hgetall(`${base}job:${id}`))));
      hashes.forEach((hash, i) => {
        const record = toRecord(ids[i]!, queue, hash);
        if (!record || !states.has(record.state)) return;
        if (params.task !== undefined && record.task !== params.task) return;
        if (params.runAfter !== undefined && !(record.runAt > params.runAfter)) return;
        found.push({ record, seq: seqOf(hash) });
      });
    }
    // Oldest first: by enqueue time, then FIFO within a queue (newest first: the reverse); then the page.
    found.sort((a, b) => a.record.enqueuedAt - b.record.enqueuedAt || a.seq - b.seq);
    if (params.newestFirst) found.reverse();
    const offset = params.offset ?? 0;
    return found.slice(offset, offset + params.limit).map((f) => f.record);
  }

  /** Ids of a queue's jobs that may be in `states`, read from the per-state indexes. */
  async #indexedIds(base: string, states: Set<string>): Promise<string[]> {
    const reads: Promise<string[]>[] = [];
    if (states.has('PENDING') || states.has('RETRY')) {
      reads.push(this.#client.zrange(`${base}ready`, '0', '-1').then((members) => members.map((m) => m.slice(32))));
      reads.push(this.#client.zrange(`${base}scheduled`, '0', '-1'));
    }
    if (states.has('STARTED')) reads.push(this.#client.zrange(`${base}leased`, '0', '-1'));
    if (states.has('FAILURE')) reads.push(this.#client.zrange(`${base}failed`, '0', '-1'));
    if (states.has('SUCCESS') || states.has('REVOKED')) reads.push(this.#client.zrange(`${base}kept`, '0', '-1'));
    return [...new Set((await Promise.all(reads)).flat())];
  }

  async queueStats(): Promise<QueueStats[]> {
    const stats: QueueStats[] = [];
    const now = await this.#now();
    for (const queue of (await this.#locator.queues()).sort()) {
      const counts = await call(this.#description, () => this.#client.hgetall(`${this.#locator.base(queue)}counts`));
      const entry = { queue, counts: Object.fromEntries(JOB_STATES.map((s) => [s, Number(counts[s] ?? 0)])) as QueueStats['counts'], nextDueAt: null };
      if (!JOB_STATES.some((s) => entry.counts[s] > 0)) continue;
      stats.push({ ...entry, nextDueAt: await this.#nextDueAt(queue, now) });
    }
    return stats;
  }

  /**
   * The run time of the job a reserve would take first: the head of `ready` (its member starts
   * with the run time). Scheduled jobs come due into `ready` lazily, at the next reserve: when
   * `ready` is empty, the earliest scheduled job whose run time has passed stands in (the one a
   * reserve would promote and take). When `ready` is not empty, a scheduled job of higher priority
   * that came due since the last reserve is not seen; the answer is still a job that waits.
   */
  async #nextDueAt(queue: string, now: number): Promise<number | null> {
    const base = this.#locator.base(queue);
    const [head] = await call(this.#description, () => this.#client.zrange(`${base}ready`, '0', '0'));
    if (head !== undefined) return Number(head.slice(0, 15));
    const [, score] = await call(this.#description, () => this.#client.zrangebyscore(`${base}scheduled`, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1));
    return score === undefined ? null : Number(score);
  }

  /** The counters of the slots at `bases` (each queue and pool counts its own), summed. */
  async counters(bases: readonly string[]): Promise<Counters> {
    const hashes = await call(this.#description, () => Promise.all(bases.map((base) => this.#client.hgetall(`${base}counters`))));
    const totals = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Counters;
    for (const hash of hashes) for (const name of COUNTERS) totals[name] += Number(hash[name] ?? 0);
    return totals;
  }
}
