/**
 * Live events for the dashboard, over Server-Sent Events (`GET /api/events`).
 *
 * Terminology:
 * - snapshot  queues, workers, counters and throughput, sent when the store changes: at most
 *             every `minIntervalMs` (a busy store would otherwise mean a snapshot per job) and at
 *             least every `maxIntervalMs` (so a quiet page still sees ages grow and workers go).
 * - job event a job's state changed. The server sees the newest jobs and the jobs it recently
 *             listed to a client (`watch`), so a page's table stays live without polling; it
 *             does not see every job in a busy store.
 *
 * One loop serves every client; it sleeps while nobody listens.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { JobState } from '../states.js';
import type { JobRecord, Store } from '../store/store.js';
import type { JobEvent, Snapshot } from './schemas.js';
import { readSnapshot } from './snapshot.js';
import type { ThroughputSampler } from './throughput.js';

export interface EventHubOptions {
  /** Least time between two snapshots. @default 500 */
  minIntervalMs?: number;
  /** Most time between two snapshots. @default 5000 */
  maxIntervalMs?: number;
  /** Newest jobs looked at for state changes on each pass. @default 100 */
  recentJobs?: number;
  /** Recently listed jobs looked at on each pass. @default 200 */
  watchedJobs?: number;
}

/** A client's stream is dropped once this much is buffered for it (a stalled reader). */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Job states remembered, to tell a change from a job seen before. */
const MAX_KNOWN = 5_000;

interface HubDeps {
  store: () => Store;
  now: () => number;
  throughput: ThroughputSampler;
  onError?: (err: unknown) => void;
}

export class EventHub {
  readonly #deps: HubDeps;
  readonly #min: number;
  readonly #max: number;
  readonly #recent: number;
  readonly #watchLimit: number;
  readonly #clients = new Set<ServerResponse>();
  /** Last state seen of each job, oldest entry first. */
  readonly #known = new Map<string, JobState>();
  /** Ids recently listed to a client, oldest first. */
  readonly #watched = new Set<string>();
  /** False until the first pass, whose unknown jobs are a baseline, not news. */
  #primed = false;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #wakeIdle: (() => void) | undefined;
  /** When the last snapshot was sent (a pass's, or a joining client's own). */
  #sentAt = -Infinity;

  constructor(deps: HubDeps, options: EventHubOptions = {}) {
    this.#deps = deps;
    this.#min = options.minIntervalMs ?? 500;
    this.#max = options.maxIntervalMs ?? 5_000;
    this.#recent = options.recentJobs ?? 100;
    this.#watchLimit = options.watchedJobs ?? 200;
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Jobs a client was just shown: report their state changes from now on. */
  watch(jobs: readonly Pick<JobRecord, 'id' | 'state'>[]): void {
    for (const job of jobs) {
      this.#watched.delete(job.id);
      this.#watched.add(job.id);
      this.#remember(job.id, job.state);
    }
    for (const id of this.#watched) {
      if (this.#watched.size <= this.#watchLimit) break;
      this.#watched.delete(id);
    }
  }

  /**
   * Stream events to `res` (its SSE headers already written) until it closes or the hub stops;
   * it gets a snapshot at once.
   */
  async add(res: ServerResponse): Promise<void> {
    this.#clients.add(res);
    res.once('close', () => this.#clients.delete(res));
    this.#wakeIdle?.();
    // The first client's join is the baseline of job states: what exists now is not news.
    const [snapshot] = await Promise.all([this.#snapshot(), this.#primed ? undefined : this.#jobChanges()]);
    send(res, 'snapshot', snapshot);
    this.#sentAt = performance.now();
  }

  /** Run the loop until `stop()`. */
  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  /** End the loop and every client's stream. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    this.#wakeIdle?.();
    await this.#loop;
    this.#loop = undefined;
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  /** One pass: send job events for the changes seen, then a snapshot, to every client. */
  async runOnce(): Promise<void> {
    if (this.#clients.size === 0) return;
    const [snapshot, changes] = await Promise.all([this.#snapshot(), this.#jobChanges()]);
    for (const res of this.#clients) {
      for (const change of changes) send(res, 'job', change);
      send(res, 'snapshot', snapshot);
    }
  }

  #snapshot(): Promise<Snapshot> {
    return readSnapshot(this.#deps.store(), this.#deps.now, this.#deps.throughput);
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.#clients.size === 0) {
        await new Promise<void>((resolve) => (this.#wakeIdle = resolve));
        this.#wakeIdle = undefined;
        this.#sentAt = performance.now(); // a new client gets its own snapshot
        continue;
      }
      try {
        const quiet = this.#max - (performance.now() - this.#sentAt);
        if (quiet > 0) await this.#deps.store().waitForChange({ timeoutMs: quiet, signal });
        // Paced from when the last snapshot was sent, not from when its reads began (a joining
        // client's snapshot, sent after reads of its own, may be later than this loop thought).
        let early: number;
        while ((early = this.#min - (performance.now() - this.#sentAt)) > 0 && !signal.aborted) await delay(early, undefined, { signal });
        if (signal.aborted) break;
        await this.runOnce();
        this.#sentAt = performance.now();
      } catch (err) {
        if (signal.aborted) break;
        this.#deps.onError?.(err);
        // The store is failing: try again at the slow pace rather than spin.
        await delay(this.#max, undefined, { signal }).catch(() => {});
      }
    }
  }

  /** State changes of the newest and the watched jobs since the last pass. */
  async #jobChanges(): Promise<JobEvent[]> {
    const store = this.#deps.store();
    const recent = await store.jobsList({ limit: this.#recent, newestFirst: true });
    const jobs = new Map(recent.map((j) => [j.id, j]));
    const others = [...this.#watched].filter((id) => !jobs.has(id));
    const records = await Promise.all(others.map((id) => store.jobGet(id)));
    others.forEach((id, i) => {
      const job = records[i];
      if (job) jobs.set(id, job);
      else this.#watched.delete(id); // deleted (purged, or its result expired)
    });
    const now = this.#deps.now();
    const changes: JobEvent[] = [];
    for (const job of jobs.values()) {
      const before = this.#known.get(job.id);
      if (before !== job.state && (before !== undefined || this.#primed)) {
        changes.push({ id: job.id, task: job.task, queue: job.queue, state: job.state, at: changedAt(job, now) });
      }
      this.#remember(job.id, job.state);
    }
    this.#primed = true;
    return changes.sort((a, b) => a.at - b.at);
  }

  #remember(id: string, state: JobState): void {
    this.#known.delete(id);
    this.#known.set(id, state);
    if (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.keys().next().value!);
  }
}

/** When the job entered its state, as far as the record tells. */
function changedAt(job: JobRecord, now: number): number {
  if (job.state === 'STARTED') return job.startedAt ?? now;
  if (job.state === 'SUCCESS' || job.state === 'FAILURE' || job.state === 'REVOKED') return job.finishedAt ?? now;
  return job.state === 'PENDING' && job.startedAt === null ? job.enqueuedAt : now;
}

function send(res: ServerResponse, event: string, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.writableLength > MAX_BUFFERED_BYTES) {
    res.destroy(); // a reader this far behind is gone or stalled; it reconnects and gets a snapshot
    return;
  }
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
