/**
 * The id registry: which queue holds each stored job id, so that an id is unique in the whole
 * store and not only in its queue (re-sending an id to another queue creates nothing).
 *
 * - A single Redis: one HASH `<prefix>:ids`, read and written by the scripts that create and
 *   delete jobs, inside their own atomic step: no extra round trip, one hash entry a job.
 * - Redis Cluster: a script touches one slot, so the registry is {@link BUCKETS} hashes, each
 *   under its own tag `<prefix>:{ids:<n>}:` (an id's bucket is a hash of it). A send claims its
 *   ids there first (`id_claim.lua`: one round trip more, one script per bucket touched, in
 *   parallel), then enqueues in the queues' slots, then releases the claims of jobs it did not
 *   create (a held idempotency key). A callback goes through its slot's outbox and is created
 *   once its id is claimed; a deleted job leaves an `unclaim` in the outbox. A sender that dies
 *   between its claim and its enqueue leaves the id claimed for that queue: a resend to the same
 *   queue creates the job, a send of that id to another queue is refused.
 */
import { call, type Client } from './connection.js';
import type { ScriptName } from './scripts.js';

/** Buckets of the registry under Cluster: enough to spread it over the masters, few enough that a batch touches all of them at most. */
export const BUCKETS = 16;

/** An id and the queue that holds (or will hold) its job. */
export interface IdClaim {
  id: string;
  queue: string;
}

/** A claim's answer: NEW (claimed now), OURS (that queue held it already), TAKEN by `owner`. */
export interface ClaimAnswer {
  code: 'NEW' | 'OURS' | 'TAKEN';
  /** The queue holding the id, when TAKEN; '' otherwise. */
  owner: string;
}

/** What the registry needs from its store. */
export interface IdsScope {
  client: Client;
  description: string;
  prefix: string;
  cluster: boolean;
  run(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown>;
}

/** FNV-1a of the id's UTF-16 units: a stable bucket, the same in every process. */
function bucketOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

export class IdRegistry {
  readonly #scope: IdsScope;

  constructor(scope: IdsScope) {
    this.#scope = scope;
  }

  /** The scripts' registry argument: the hash they update themselves, or '' under Cluster. */
  get scriptArg(): string {
    return this.#scope.cluster ? '' : `${this.#scope.prefix}:ids`;
  }

  /** Whether the adapter claims and releases ids itself (Cluster). */
  get claimsFirst(): boolean {
    return this.#scope.cluster;
  }

  #base(id: string): string {
    return `${this.#scope.prefix}:{ids:${bucketOf(id)}}:`;
  }

  /** The bases of every bucket (their counters are the store's too), or none on a single Redis. */
  bases(): string[] {
    return this.#scope.cluster ? Array.from({ length: BUCKETS }, (_, n) => `${this.#scope.prefix}:{ids:${n}}:`) : [];
  }

  /**
   * Claim ids for their queues (Cluster). Answers, per claim in order, NEW (claimed now), OURS
   * (that queue held it already) or TAKEN, with the queue that holds it (counted in `counter`).
   */
  async claim(claims: readonly IdClaim[], counter: 'duplicates_suppressed_total' | 'callbacks_deduplicated_total'): Promise<ClaimAnswer[]> {
    const answers: ClaimAnswer[] = new Array(claims.length);
    await Promise.all([...this.#byBucket(claims)].map(async ([base, entries]) => {
      const [codes, owners] = (await this.#scope.run('id_claim', base, [counter, ...entries.flatMap(({ claim }) => [claim.id, claim.queue])])) as [ClaimAnswer['code'][], string[]];
      entries.forEach(({ index }, i) => (answers[index] = { code: codes[i]!, owner: owners[i]! }));
    }));
    return answers;
  }

  /** Release ids their queue still holds (Cluster): jobs deleted, or claimed and not created. */
  async release(claims: readonly IdClaim[]): Promise<void> {
    await Promise.all([...this.#byBucket(claims)].map(([base, entries]) =>
      this.#scope.run('id_release', base, entries.flatMap(({ claim }) => [claim.id, claim.queue]))));
  }

  /** The queue the registry says holds `id`, if any (jobs stored before the registry are not in it). */
  async queueOf(id: string): Promise<string | undefined> {
    const key = this.#scope.cluster ? `${this.#base(id)}ids` : this.scriptArg;
    return (await call(this.#scope.description, () => this.#scope.client.hget(key, id))) ?? undefined;
  }

  #byBucket(claims: readonly IdClaim[]): Map<string, { claim: IdClaim; index: number }[]> {
    const groups = new Map<string, { claim: IdClaim; index: number }[]>();
    claims.forEach((claim, index) => {
      const base = this.#base(claim.id);
      let group = groups.get(base);
      if (!group) groups.set(base, (group = []));
      group.push({ claim, index });
    });
    return groups;
  }
}
