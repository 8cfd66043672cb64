/**
 * Enqueue on Redis: one `enqueue.lua` per queue (in parallel), with what ids unique per store
 * need around it — under Cluster the ids claimed first and given back when not used, and the
 * followers of a send whose id another queue holds sent to that queue (follow.lua) — and a batch
 * that names one id twice cut into runs that are decided one after the other.
 */
import type { EnqueueResult, NewJob } from '../store.js';
import { enqueueResults } from './codes.js';
import type { IdRegistry } from './redis-ids.js';
import { groupBy, type JobLocator } from './redis-locator.js';
import type { OutboxRelay } from './redis-outbox.js';
import type { ScriptName } from './scripts.js';
import { encodeCallbacks, encodeChord, pushJob } from './wire.js';

/** What enqueueing needs from its store. */
export interface EnqueueScope {
  prefix: string;
  /** The scripts' `now` argument ('' for Redis' TIME). */
  nowArg(): string;
  wakeChannel(queue: string): string;
  ids: IdRegistry;
  locator: JobLocator;
  outbox: OutboxRelay;
  /** Run a script on a queue's keys. */
  runOn(name: ScriptName, queue: string, args: (string | number)[]): Promise<unknown>;
}

export class RedisEnqueuer {
  readonly #scope: EnqueueScope;

  constructor(scope: EnqueueScope) {
    this.#scope = scope;
  }

  /** Add checked jobs (see Store.jobsEnqueue). */
  async enqueue(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    // An id sent twice in one batch: the batch goes in runs with no id twice, one after the other,
    // so that each send of it is decided after the one before (created, or its key held, or not).
    const results: EnqueueResult[] = new Array(jobs.length);
    for (const run of distinctRuns(jobs)) {
      const answers = await this.#enqueueDistinct(run.map((i) => jobs[i]!));
      run.forEach((i, k) => (results[i] = answers[k]!));
    }
    return results;
  }

  /** Enqueue jobs with distinct ids: one script per queue, in parallel. */
  async #enqueueDistinct(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const results: EnqueueResult[] = new Array(jobs.length);
    // Under Cluster the ids are claimed first (redis-ids.ts): a job whose id another queue holds is not sent.
    const claims = this.#scope.ids.claimsFirst ? await this.#scope.ids.claim(jobs, 'duplicates_suppressed_total') : undefined;
    const sending = jobs.map((job, index) => ({ job, index })).filter(({ job, index }) => {
      if (claims?.[index]!.code !== 'TAKEN') return true;
      results[index] = { id: job.id, created: false };
      return false;
    });
    await Promise.all([...groupBy(sending, (e) => e.job.queue)].map(async ([queue, entries]) => {
      await this.#scope.locator.addQueue(queue);
      const args: (string | number)[] = [this.#scope.nowArg(), this.#scope.wakeChannel(queue), this.#scope.prefix, this.#scope.ids.scriptArg];
      for (const { job } of entries) pushJob(args, job);
      const [codes, holders, outboxed] = (await this.#scope.runOn('enqueue', queue, args)) as [string[], string[], number];
      // Followers fired at once, for a holder already final: their deliveries may sit in another
      // queue's outbox (the holder's, when its id was another queue's). Rare: relay every outbox.
      if (outboxed > 0) await this.#scope.outbox.relay(await this.#scope.locator.queues());
      const answers = enqueueResults(entries.map((e) => e.job.id), [codes, holders]);
      entries.forEach(({ index, job }, i) => {
        const answer = answers[i]!;
        results[index] = answer;
        // Created here, or held by a job of this queue (keys are per queue); an id already stored may be another queue's.
        if (answer.created || answer.id !== job.id) this.#scope.locator.remember(answer.id, queue);
      });
    }));
    if (claims) {
      // Claimed now for a job not created (its idempotency key was held): give the id back.
      await this.#scope.ids.release(jobs.filter((_, i) => claims[i]!.code === 'NEW' && !results[i]!.created));
      // A send whose id another queue holds leaves its followers to that job, in that job's slot.
      await this.#followTaken(jobs.map((job, i) => ({ job, owner: claims[i]!.owner })).filter((e) => e.owner !== ''));
    }
    return results;
  }

  /** Under Cluster: the chord places and chains' next steps of sends whose ids another queue holds follow those jobs. */
  async #followTaken(sends: { job: NewJob; owner: string }[]): Promise<void> {
    const following = sends.filter(({ job }) => job.chord || job.callbacks?.some((c) => c.join !== undefined));
    await Promise.all([...groupBy(following, (e) => e.owner)].map(async ([queue, entries]) => {
      const args: (string | number)[] = [this.#scope.nowArg(), this.#scope.prefix, this.#scope.ids.scriptArg];
      for (const { job } of entries) args.push(job.id, job.callbacks?.length ? encodeCallbacks(job.callbacks) : '', job.chord ? encodeChord(job.chord) : '');
      if (((await this.#scope.runOn('follow', queue, args)) as number) > 0) await this.#scope.outbox.relay([queue]);
    }));
  }
}

/** The indexes of `jobs` cut into consecutive runs in which no id appears twice (one run, as a rule). */
function distinctRuns(jobs: readonly NewJob[]): number[][] {
  const runs: number[][] = [[]];
  let ids = new Set<string>();
  jobs.forEach((job, i) => {
    if (ids.has(job.id)) {
      runs.push([]);
      ids = new Set();
    }
    ids.add(job.id);
    runs.at(-1)!.push(i);
  });
  return runs;
}
