/**
 * A reference model of the Store's state machine: plain data and the rules of `store.ts`, with no
 * I/O, no indexes and no cleverness, so that it can be read against the contract line by line.
 * The model test (model.test.ts) runs random operation sequences against it and against every
 * engine, and any difference between them is a bug in one or the other.
 *
 * It covers one queue's ordering (reserve takes from a single queue), ids unique across queues,
 * etas and countdowns, idempotency keys (sent on one queue only: their scope is per queue on
 * Redis, per store on SQLite), leases and fencing, settlements, revoke, lease recovery,
 * dead-letter retry, result TTLs, steps, chords (each place sent with one id, so a repeated send
 * of it leaves the place to the stored job), and the counters those move. Callbacks, and keys on
 * chord members, are left to the conformance suite.
 */
import type { Counters, CounterName, EnqueueResult, LeaseRef, LossReason, RetryAnswer, StepOutcome, WriteOutcome } from '../../src/store/store.js';
import { COUNTERS } from '../../src/store/store.js';

export const DAY = 86_400_000;

/** A job as the model keeps it. */
export interface ModelJob {
  id: string;
  queue: string;
  state: 'PENDING' | 'STARTED' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';
  priority: number;
  runAt: number;
  seq: number;
  attempt: number;
  deliveries: number;
  maxDeliveries: number;
  token: number;
  leaseUntil: number | null;
  expiresAt: number | null;
  key: string | null;
  keyTtl: number | null;
  finishedAt: number | null;
  keepUntil: number | null;
  terminate: boolean;
  result: string | null;
  /** The error record's type (and code, when it has one). */
  error: string | null;
  steps: Map<string, string>;
  argsJson: string;
  /** Its place in a chord, and the places deduplicated sends left to it (followers). */
  chord: { chord: string; index: number } | null;
  followers: { chord: string; index: number }[];
  /** Its own callbacks and chord mark happened (once, ever). */
  fired: boolean;
}

/** The chords a sequence may use: callback id -> size. Their callbacks go to queue 'b'. */
export const CHORDS: Record<string, number> = { c1: 2, c2: 2 };

/** A job to send. */
export interface ModelSend {
  id: string;
  queue: string;
  priority: number;
  delayMs: number;
  maxDeliveries: number;
  key: string | null;
  keyTtl: number | null;
  expiresInMs: number | null;
  /** An eta (epoch ms) instead of `delayMs`. */
  at: number | null;
  chord: { chord: string; index: number } | null;
}

export type ModelSettlement =
  | { kind: 'complete'; result: string; ttlMs: number }
  | { kind: 'fail' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'release' };

const FINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

export class StoreModel {
  now: number;
  readonly jobs = new Map<string, ModelJob>();
  readonly counters: Counters = Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Counters;
  /** Per queue: the FIFO counter, and each key's last holder (the job it was given to last). */
  #seq = 0;
  readonly #keys = new Map<string, string>();
  /** Each chord's marks by index (kept until the chord's callback is deleted): the member, its final state, result and error. */
  readonly #marks = new Map<string, Map<number, { member: string; state: string; result: string | null; error: string | null }>>();

  constructor(now: number) {
    this.now = now;
  }

  #count(name: CounterName): void {
    this.counters[name]++;
  }

  /** The job holding `key` in `queue`, if any (store.ts, jobsEnqueue). */
  keyHolder(queue: string, key: string): string | null {
    const id = this.#keys.get(`${queue}\u0000${key}`);
    const job = id === undefined ? undefined : this.jobs.get(id);
    if (!job || job.key !== key) return null;
    if (job.keepUntil !== null && job.keepUntil < this.now) return null;
    if (!FINAL.has(job.state)) return job.id;
    return job.keyTtl !== null && job.finishedAt !== null && job.finishedAt + job.keyTtl > this.now ? job.id : null;
  }

  enqueue(sends: readonly ModelSend[]): EnqueueResult[] {
    return sends.map((send) => {
      const existing = this.jobs.get(send.id);
      const holder = existing ? existing.id : send.key === null ? null : this.keyHolder(send.queue, send.key);
      if (holder !== null) {
        this.#count('duplicates_suppressed_total');
        if (send.chord) this.#follow(this.jobs.get(holder)!, send.chord);
        return { id: holder, created: false };
      }
      this.#create({
        id: send.id, queue: send.queue, state: 'PENDING', priority: send.priority, runAt: send.at ?? this.now + send.delayMs,
        attempt: 1, deliveries: 0, maxDeliveries: send.maxDeliveries, token: 0, leaseUntil: null,
        expiresAt: send.expiresInMs === null ? null : this.now + send.expiresInMs, key: send.key, keyTtl: send.keyTtl,
        finishedAt: null, keepUntil: null, terminate: false, result: null, error: null, steps: new Map(), argsJson: '[]',
        chord: send.chord, followers: [], fired: false,
      });
      if (send.key !== null) this.#keys.set(`${send.queue}\u0000${send.key}`, send.id);
      return { id: send.id, created: true };
    });
  }

  #create(job: Omit<ModelJob, 'seq'>): void {
    this.jobs.set(job.id, { ...job, seq: ++this.#seq });
  }

  /** A deduplicated send's chord place follows the holder, unless it has that place already. */
  #follow(holder: ModelJob, place: { chord: string; index: number }): void {
    const same = (p: { chord: string; index: number } | null) => p !== null && p.chord === place.chord && p.index === place.index;
    if (same(holder.chord) || holder.followers.some(same)) return;
    if (FINAL.has(holder.state)) this.#mark(place, holder);
    else holder.followers.push(place);
  }

  /** Job `job` just became final: its own chord mark once ever (a later one is counted), its followers each time. */
  #finish(job: ModelJob): void {
    if (job.fired) {
      if (job.chord) this.#count('callbacks_deduplicated_total');
    } else {
      job.fired = true;
      if (job.chord) this.#mark(job.chord, job);
    }
    for (const place of job.followers.splice(0)) this.#mark(place, job);
  }

  /** Record `member`'s outcome in a chord's place; the last place enqueues the callback (or fails it). */
  #mark(place: { chord: string; index: number }, member: ModelJob): void {
    const marks = this.#marks.get(place.chord) ?? new Map();
    this.#marks.set(place.chord, marks);
    const mark = { member: member.id, state: member.state, result: member.state === 'SUCCESS' ? (member.result ?? 'null') : null, error: member.error };
    const recorded = marks.get(place.index);
    if (recorded) {
      // The same outcome again is the same mark; another one is a duplicate.
      const same = recorded.state === 'SUCCESS' ? mark.state === 'SUCCESS' && mark.result === recorded.result
        : recorded.member === mark.member && recorded.state === mark.state && recorded.error === mark.error;
      if (!same) this.#count('callbacks_deduplicated_total');
      return;
    }
    marks.set(place.index, mark);
    const size = CHORDS[place.chord]!;
    if (marks.size < size) return;
    const ordered = [...marks.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
    const failed = ordered.some((m) => m.state !== 'SUCCESS');
    this.#create({
      id: place.chord, queue: 'b', state: failed ? 'FAILURE' : 'PENDING', priority: 0, runAt: this.now, attempt: 1, deliveries: 0,
      maxDeliveries: 3, token: 0, leaseUntil: null, expiresAt: null, key: null, keyTtl: null, finishedAt: failed ? this.now : null,
      keepUntil: null, terminate: false, result: null, error: failed ? 'ChordError/CHORD_FAILED' : null, steps: new Map(),
      argsJson: failed ? '[]' : `[[${ordered.map((m) => m.result).join(',')}]]`, chord: null, followers: [], fired: failed,
    });
  }

  /** Lease up to `limit` due jobs of `queue`: priority desc, run time, FIFO; expired ones are revoked instead. */
  reserve(queue: string, limit: number, leaseMs: number): { id: string; token: number; attempt: number; deliveries: number }[] {
    const due = [...this.jobs.values()]
      .filter((j) => j.queue === queue && (j.state === 'PENDING' || j.state === 'RETRY') && j.runAt <= this.now)
      .sort((a, b) => b.priority - a.priority || a.runAt - b.runAt || a.seq - b.seq);
    const taken = [];
    for (const job of due) {
      if (taken.length >= limit) break;
      if (job.expiresAt !== null && job.expiresAt < this.now) {
        Object.assign(job, { state: 'REVOKED', error: 'JobExpiredError/EXPIRED', finishedAt: this.now, keepUntil: this.now + DAY });
        this.#finish(job);
        continue;
      }
      Object.assign(job, { state: 'STARTED', token: job.token + 1, deliveries: job.deliveries + 1, leaseUntil: this.now + leaseMs, terminate: false });
      taken.push({ id: job.id, token: job.token, attempt: job.attempt, deliveries: job.deliveries });
    }
    return taken;
  }

  /** Why a write fenced by `token` is refused, or null (the lease is current). */
  #fence(lease: LeaseRef): { reason: LossReason; terminate: boolean } | null {
    const job = this.jobs.get(lease.id);
    if (!job) return { reason: 'missing', terminate: false };
    if (job.token === lease.token && job.state === 'STARTED') return null;
    if (job.token === lease.token && job.state === 'REVOKED') return { reason: 'revoked', terminate: job.terminate };
    if (job.token !== lease.token || job.state === 'PENDING' || job.state === 'RETRY') {
      this.#count('stale_writes_refused_total');
      return { reason: 'stale', terminate: false };
    }
    return { reason: 'final', terminate: false };
  }

  #outcome(lease: LeaseRef): WriteOutcome | null {
    const loss = this.#fence(lease);
    return loss === null ? null : { id: lease.id, ok: false, ...loss };
  }

  renew(leases: readonly LeaseRef[], leaseMs: number): WriteOutcome[] {
    return leases.map((lease) => {
      const refused = this.#outcome(lease);
      if (refused) return refused;
      this.jobs.get(lease.id)!.leaseUntil = this.now + leaseMs;
      return { id: lease.id, ok: true };
    });
  }

  settle(lease: LeaseRef, s: ModelSettlement): WriteOutcome {
    const refused = this.#outcome(lease);
    if (refused) return refused;
    const job = this.jobs.get(lease.id)!;
    switch (s.kind) {
      case 'complete':
        Object.assign(job, { state: 'SUCCESS', result: s.result, error: null, finishedAt: this.now, leaseUntil: null, keepUntil: this.now + s.ttlMs });
        this.#finish(job);
        break;
      case 'fail':
        Object.assign(job, { state: 'FAILURE', error: 'Error', finishedAt: this.now, leaseUntil: null });
        this.#finish(job);
        break;
      case 'retry':
        Object.assign(job, { state: 'RETRY', error: 'Error', runAt: this.now + s.delayMs, attempt: job.attempt + 1, deliveries: 0, leaseUntil: null });
        break;
      case 'release':
        Object.assign(job, { state: 'PENDING', deliveries: job.deliveries - 1, leaseUntil: null });
        break;
    }
    return { id: lease.id, ok: true };
  }

  revoke(id: string, terminate: boolean): 'revoked' | 'final' | 'missing' {
    const job = this.jobs.get(id);
    if (!job) return 'missing';
    if (FINAL.has(job.state)) return 'final';
    Object.assign(job, { state: 'REVOKED', terminate, error: 'RevokedError/REVOKED', finishedAt: this.now, leaseUntil: null, keepUntil: this.now + DAY });
    this.#finish(job);
    return 'revoked';
  }

  recoverExpired(): { requeued: string[]; failed: string[] } {
    const requeued: string[] = [];
    const failed: string[] = [];
    for (const job of this.jobs.values()) {
      if (job.state !== 'STARTED' || job.leaseUntil === null || !(job.leaseUntil < this.now)) continue;
      if (job.deliveries >= job.maxDeliveries) {
        Object.assign(job, { state: 'FAILURE', error: 'WorkerLostError/WORKER_LOST', finishedAt: this.now, leaseUntil: null });
        this.#finish(job);
        failed.push(job.id);
      } else {
        Object.assign(job, { state: 'PENDING', leaseUntil: null });
        requeued.push(job.id);
      }
    }
    return { requeued: requeued.sort(), failed: failed.sort() };
  }

  retry(id: string): RetryAnswer {
    const job = this.jobs.get(id);
    if (!job) return 'missing';
    if (job.state !== 'FAILURE' && job.state !== 'REVOKED') return 'not-final';
    if (job.key !== null) {
      const holder = this.keyHolder(job.queue, job.key);
      if (holder !== null && holder !== id) return 'key-held';
    }
    if (job.error === 'ChordError/CHORD_FAILED') {
      const results = [];
      for (const m of [...this.#marks.get(id)!.entries()].sort((a, b) => a[0] - b[0]).map(([, mark]) => mark)) {
        const now = this.jobs.get(m.member);
        if (m.state === 'SUCCESS') results.push(m.result);
        else if (now?.state === 'SUCCESS') results.push(now.result ?? 'null');
        else return 'chord-failed';
      }
      job.argsJson = `[[${results.join(',')}]]`;
    }
    if (job.key !== null) this.#keys.set(`${job.queue}\u0000${job.key}`, id);
    Object.assign(job, {
      state: 'PENDING', attempt: 1, deliveries: 0, runAt: this.now, finishedAt: null, error: null, result: null,
      keepUntil: null, terminate: false, expiresAt: null,
    });
    return 'retried';
  }

  deleteExpired(): number {
    let n = 0;
    for (const job of [...this.jobs.values()]) {
      if (job.keepUntil !== null && job.keepUntil < this.now) {
        this.jobs.delete(job.id);
        this.#marks.delete(job.id); // a chord's callback: its chord's record goes with it
        n++;
      }
    }
    return n;
  }

  stepGet(lease: LeaseRef, name: string): StepOutcome {
    const loss = this.#fence(lease);
    if (loss) return { ok: false, ...loss };
    const recorded = this.jobs.get(lease.id)!.steps.get(name);
    if (recorded !== undefined) this.#count('steps_replayed_total');
    return { ok: true, resultJson: recorded ?? null };
  }

  stepPut(lease: LeaseRef, name: string, resultJson: string): StepOutcome {
    const loss = this.#fence(lease);
    if (loss) return { ok: false, ...loss };
    const steps = this.jobs.get(lease.id)!.steps;
    if (!steps.has(name)) steps.set(name, resultJson);
    return { ok: true, resultJson: steps.get(name)! };
  }
}
