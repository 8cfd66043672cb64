/**
 * The Redis engine of the Store contract (Redis, Valkey, Redis Cluster). Every transition is one
 * Lua script in `lua/`, run atomically on the keys of one queue; the key layout is documented at
 * the top of `lua/include/lib.lua`.
 *
 * Cluster mode: every key of a queue shares one hash tag (`<prefix>:{<queue>}:`), so each
 * script touches one slot and stays atomic. Operations across queues are one atomic script per
 * queue: a batch enqueued to several queues is all-or-none per queue; a reserve from several
 * queues reads the queues' heads, then takes each queue's share atomically (a job is never
 * handed out twice, but another worker may win a head in between, so the mix across queues is
 * best effort). The list of queues is a plain set outside any tag.
 *
 * Times come from the store's clock (passed to scripts), never Redis' own, so every process
 * and the tests' fake clock agree on what is due.
 */
import type { Cluster, Redis } from 'ioredis';
import { toJson } from '../../message.js';
import { JOB_STATES } from '../../states.js';
import type {
  EnqueueResult, JobRecord, LeaseRef, ListParams, NewJob, QueueStats, RecoverResult, ReserveParams, ReservedJob,
  Settlement, SettleAndReserveResult, Store, StoreOptions, WaitParams, WriteOutcome,
} from '../store.js';
import { decode, fenceOutcome, RETRY_CODES, REVOKE_CODES } from './codes.js';
import { call, connect, describeTarget, type Client, type RedisTarget } from './connection.js';
import { seqOf, toRecord } from './records.js';
import { RedisWakeups } from './wakeups.js';
import { defineScripts, runScript, type ScriptName } from './scripts.js';

const DAY_MS = 86_400_000;
/** Most ids remembered with their queue, so writes about a job need not search for it. */
const QUEUE_CACHE_SIZE = 100_000;

/** Options of the Redis store. */
export interface RedisStoreOptions extends StoreOptions, RedisTarget {
  /** Prefix of every key, so several apps or tests share one Redis. @default 'conveyor' */
  prefix?: string;
}

type Raw = [string, string, string, string, number, number, string];

export class RedisStore implements Store {
  readonly capabilities = { crossProcessWakeups: true, remoteCalls: true };
  readonly description: string;
  readonly #client: Client;
  readonly #wakeups: RedisWakeups;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #revokedTtlMs: number;
  /** id → queue, for the jobs this handle sent or reserved. */
  readonly #queueOf = new Map<string, string>();
  readonly #knownQueues = new Set<string>();

  constructor(options: RedisStoreOptions = {}) {
    this.#prefix = options.prefix ?? 'conveyor';
    this.#now = options.clock ?? Date.now;
    this.#revokedTtlMs = options.revokedTtlMs ?? DAY_MS;
    this.description = describeTarget(options, this.#prefix);
    this.#client = connect(options);
    this.#client.on('error', () => {}); // reconnects on its own; failed commands report through call()
    defineScripts(this.#client);
    this.#wakeups = new RedisWakeups(this.#client, this.description);
  }

  /** The base of a queue's keys: its hash tag. */
  #base(queue: string): string {
    return `${this.#prefix}:{${queue}}:`;
  }

  #wakeChannel(queue: string): string {
    return `${this.#prefix}:wake:${queue}`;
  }

  get #settledChannel(): string {
    return `${this.#prefix}:settled`;
  }

  /** Run a script; a write made through this handle wakes this handle's waiters at once. */
  async #run(name: ScriptName, queue: string, args: (string | number)[]): Promise<unknown> {
    const result = await call(this.description, () => runScript(this.#client, name, this.#base(queue), args));
    if (name !== 'peek' && name !== 'renew') this.#wakeups.notify();
    return result;
  }

  #remember(id: string, queue: string): void {
    if (this.#queueOf.size >= QUEUE_CACHE_SIZE) this.#queueOf.delete(this.#queueOf.keys().next().value!);
    this.#queueOf.set(id, queue);
  }

  async #queues(): Promise<string[]> {
    return call(this.description, () => this.#client.smembers(`${this.#prefix}:queues`));
  }

  /** The queues of many jobs; only ids not remembered cost a look-up. */
  async #locateAll(ids: readonly string[]): Promise<(string | undefined)[]> {
    const queues = ids.map((id) => this.#queueOf.get(id));
    const missing = queues.flatMap((q, i) => (q === undefined ? [i] : []));
    if (missing.length) await Promise.all(missing.map(async (i) => (queues[i] = await this.#locate(ids[i]!))));
    return queues;
  }

  /** Group items by their job's queue; items whose job is unknown answer `missing` in `outcomes`. */
  async #byQueue<T extends { id: string }>(items: readonly T[], outcomes: WriteOutcome[]): Promise<Map<string, { item: T; index: number }[]>> {
    const queues = await this.#locateAll(items.map((i) => i.id));
    const groups = new Map<string, { item: T; index: number }[]>();
    items.forEach((item, index) => {
      const queue = queues[index];
      if (queue === undefined) {
        outcomes[index] = { id: item.id, ok: false, reason: 'missing', terminate: false };
        return;
      }
      let group = groups.get(queue);
      if (!group) groups.set(queue, (group = []));
      group.push({ item, index });
    });
    return groups;
  }

  /** The queue holding job `id`: remembered, else found by looking in every queue. */
  async #locate(id: string): Promise<string | undefined> {
    const known = this.#queueOf.get(id);
    if (known !== undefined) return known;
    const queues = await this.#queues();
    const found = await call(this.description, () => Promise.all(queues.map((q) => this.#client.exists(`${this.#base(q)}job:${id}`))));
    const queue = queues[found.findIndex((n) => n === 1)];
    if (queue !== undefined) this.#remember(id, queue);
    return queue;
  }

  async jobsEnqueue(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const results: EnqueueResult[] = new Array(jobs.length);
    const byQueue = groupBy(jobs.map((job, index) => ({ job, index })), (e) => e.job.queue);
    await Promise.all([...byQueue].map(async ([queue, entries]) => {
      if (!this.#knownQueues.has(queue)) {
        await call(this.description, () => this.#client.sadd(`${this.#prefix}:queues`, queue));
        this.#knownQueues.add(queue);
      }
      const args: (string | number)[] = [this.#now(), this.#wakeChannel(queue)];
      for (const { job } of entries) {
        args.push(job.id, job.task, job.argsJson, job.priority, job.runAt, job.expiresAt ?? '', job.maxDeliveries);
      }
      const created = (await this.#run('enqueue', queue, args)) as number[];
      entries.forEach(({ job, index }, i) => {
        results[index] = { id: job.id, created: created[i] === 1 };
        this.#remember(job.id, queue);
      });
    }));
    return results;
  }

  #reserved(queue: string, raw: Raw[], leaseMs: number, now: number): ReservedJob[] {
    return raw.map(([id, task, argsJson, attempt, deliveries, token, enqueuedAt]) => {
      this.#remember(id, queue);
      return {
        id, task, queue, argsJson, attempt: Number(attempt), deliveries: Number(deliveries), token: Number(token),
        enqueuedAt: Number(enqueuedAt), leaseExpiresAt: now + leaseMs,
      };
    });
  }

  async jobsReserve(params: ReserveParams): Promise<ReservedJob[]> {
    if (params.limit <= 0 || params.queues.length === 0) return [];
    const now = this.#now();
    if (params.queues.length === 1) return this.#take(params.queues[0]!, params.limit, params, now);
    // Across queues: read each queue's head, merge by priority then run time, take each share.
    const heads = await Promise.all(params.queues.map(async (queue) => {
      const flat = (await this.#run('peek', queue, [now, params.limit])) as string[];
      const entries = [];
      for (let i = 0; i < flat.length; i += 2) entries.push({ queue, member: flat[i]!, score: Number(flat[i + 1]) });
      return entries;
    }));
    const order = heads.flat().sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0)).slice(0, params.limit);
    const shares = groupBy(order, (e) => e.queue);
    const taken = await Promise.all([...shares].map(([queue, entries]) => this.#take(queue, entries.length, params, now)));
    const rank = new Map(order.map((e, i) => [e.member.slice(32), i]));
    return taken.flat().sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity));
  }

  async #take(queue: string, limit: number, params: ReserveParams, now: number): Promise<ReservedJob[]> {
    const raw = (await this.#run('reserve', queue, [now, params.workerId, limit, params.leaseMs, this.#revokedTtlMs])) as Raw[];
    return this.#reserved(queue, raw, params.leaseMs, now);
  }

  async jobsSettle(settlements: readonly Settlement[]): Promise<WriteOutcome[]> {
    return (await this.jobsSettleAndReserve({ settlements, reserve: null })).outcomes;
  }

  async jobsSettleAndReserve(params: { settlements: readonly Settlement[]; reserve: ReserveParams | null }): Promise<SettleAndReserveResult> {
    const now = this.#now();
    const outcomes: WriteOutcome[] = new Array(params.settlements.length);
    const groups = await this.#byQueue(params.settlements, outcomes);
    const reserve = params.reserve;
    // The common case — one queue to settle and reserve from — is one script, one round trip.
    const combined = reserve && reserve.queues.length === 1 && [...groups.keys()].every((q) => q === reserve.queues[0]) ? reserve.queues[0]! : undefined;
    let jobs: ReservedJob[] = [];
    await Promise.all([...groups].map(async ([queue, entries]) => {
      const limit = queue === combined ? reserve!.limit : 0;
      const args: (string | number)[] = [now, this.#settledChannel, this.#wakeChannel(queue), this.#revokedTtlMs, limit, reserve?.workerId ?? '', reserve?.leaseMs ?? 0];
      for (const { item } of entries) pushSettlement(args, item);
      const [codes, raw] = (await this.#run('settle', queue, args)) as [string[], Raw[]];
      entries.forEach(({ item, index }, i) => {
        outcomes[index] = fenceOutcome(item.id, codes[i]!);
      });
      if (limit > 0) jobs = this.#reserved(queue, raw, reserve!.leaseMs, now);
    }));
    if (reserve && (combined === undefined || groups.size === 0)) jobs = await this.jobsReserve(reserve);
    return { outcomes, jobs };
  }

  async jobsRenew(params: { leases: readonly LeaseRef[]; leaseMs: number }): Promise<WriteOutcome[]> {
    const leaseUntil = this.#now() + params.leaseMs;
    const outcomes: WriteOutcome[] = new Array(params.leases.length);
    await Promise.all([...(await this.#byQueue(params.leases, outcomes))].map(async ([queue, entries]) => {
      const codes = (await this.#run('renew', queue, [leaseUntil, ...entries.flatMap(({ item }) => [item.id, item.token])])) as string[];
      entries.forEach(({ item, index }, i) => (outcomes[index] = fenceOutcome(item.id, codes[i]!)));
    }));
    return outcomes;
  }

  async jobRevoke(params: { id: string; terminate: boolean; reason?: string }): Promise<'revoked' | 'final' | 'missing'> {
    const queue = await this.#locate(params.id);
    if (queue === undefined) return 'missing';
    const error = toJson({ type: 'RevokedError', message: params.reason ?? 'revoked' }, 'error');
    const code = await this.#run('revoke', queue, [this.#now(), params.id, params.terminate ? 1 : 0, error, this.#revokedTtlMs, this.#settledChannel]);
    return decode(REVOKE_CODES, code);
  }

  async jobRetry(id: string): Promise<'retried' | 'not-final' | 'missing'> {
    const queue = await this.#locate(id);
    if (queue === undefined) return 'missing';
    return decode(RETRY_CODES, await this.#run('retry_final', queue, [this.#now(), id, this.#wakeChannel(queue)]));
  }

  async jobsRecoverExpired(): Promise<RecoverResult> {
    const now = this.#now();
    const result: RecoverResult = { requeued: [], failed: [] };
    for (const queue of await this.#queues()) {
      const [requeued, failed] = (await this.#run('recover', queue, [now, this.#wakeChannel(queue)])) as [string[], string[]];
      result.requeued.push(...requeued);
      result.failed.push(...failed);
    }
    return result;
  }

  async jobsDeleteExpired(): Promise<number> {
    const now = this.#now();
    let total = 0;
    for (const queue of await this.#queues()) {
      for (let n = 1000; n === 1000; total += n) n = (await this.#run('delete_expired', queue, [now])) as number;
    }
    return total;
  }

  async jobGet(id: string): Promise<JobRecord | null> {
    const queue = await this.#locate(id);
    if (queue === undefined) return null;
    const hash = await call(this.description, () => this.#client.hgetall(`${this.#base(queue)}job:${id}`));
    const record = toRecord(id, queue, hash);
    if (!record) this.#queueOf.delete(id);
    return record;
  }

  async jobsList(params: ListParams): Promise<JobRecord[]> {
    const states = new Set(params.states?.length ? params.states : JOB_STATES);
    const queues = params.queue !== undefined ? [params.queue] : await this.#queues();
    const found: { record: JobRecord; seq: number }[] = [];
    for (const queue of queues) {
      const ids = await call(this.description, () => this.#indexedIds(queue, states));
      const hashes = await call(this.description, () => Promise.all(ids.map((id) => this.#client.hgetall(`${this.#base(queue)}job:${id}`))));
      hashes.forEach((hash, i) => {
        const record = toRecord(ids[i]!, queue, hash);
        if (!record || !states.has(record.state)) return;
        if (params.task !== undefined && record.task !== params.task) return;
        if (params.runAfter !== undefined && !(record.runAt > params.runAfter)) return;
        found.push({ record, seq: seqOf(hash) });
      });
    }
    // Oldest first: by enqueue time, then FIFO within a queue.
    found.sort((a, b) => a.record.enqueuedAt - b.record.enqueuedAt || a.seq - b.seq);
    return found.slice(0, params.limit).map((f) => f.record);
  }

  /** Ids of a queue's jobs that may be in `states`, read from the per-state indexes. */
  async #indexedIds(queue: string, states: Set<string>): Promise<string[]> {
    const base = this.#base(queue);
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

  async queuePurge(queue: string): Promise<number> {
    return (await this.#run('purge', queue, [])) as number;
  }

  async queueStats(): Promise<QueueStats[]> {
    const stats: QueueStats[] = [];
    for (const queue of (await this.#queues()).sort()) {
      const counts = await call(this.description, () => this.#client.hgetall(`${this.#base(queue)}counts`));
      const entry = { queue, counts: Object.fromEntries(JOB_STATES.map((s) => [s, Number(counts[s] ?? 0)])) as QueueStats['counts'] };
      if (JOB_STATES.some((s) => entry.counts[s] > 0)) stats.push(entry);
    }
    return stats;
  }

  waitForChange(params: WaitParams): Promise<void> {
    const queues = params.queues ?? [];
    const channels = queues.length ? queues.map((q) => this.#wakeChannel(q)) : [this.#settledChannel];
    return this.#wakeups.wait(params.timeoutMs, params.signal, channels, () => this.#nextDue(queues));
  }

  /** When the earliest scheduled job of these queues comes due, as a real-clock epoch ms. */
  async #nextDue(queues: readonly string[]): Promise<number | undefined> {
    let due: number | undefined;
    for (const queue of queues) {
      const [, score] = await this.#client.zrange(`${this.#base(queue)}scheduled`, '0', '0', 'WITHSCORES');
      // Scores are on the store's clock; convert the distance to the real clock the timer uses.
      if (score !== undefined) due = Math.min(due ?? Infinity, Date.now() + Number(score) - this.#now());
    }
    return due;
  }

  /** The underlying client, for tests that build broken states by hand. @internal */
  get client(): Redis | Cluster {
    return this.#client;
  }

  async close(): Promise<void> {
    this.#wakeups.close();
    await this.#client.quit().catch(() => this.#client.disconnect());
  }
}

/** Append a settlement as the settle script's five arguments. */
function pushSettlement(args: (string | number)[], s: Settlement): void {
  switch (s.kind) {
    case 'complete':
      if (s.resultJson === null) args.push('complete_null', s.id, s.token, '', s.resultTtlMs);
      else args.push('complete', s.id, s.token, s.resultJson, s.resultTtlMs);
      return;
    case 'fail':
      args.push('fail', s.id, s.token, JSON.stringify(s.error), '');
      return;
    case 'retry':
      args.push('retry', s.id, s.token, JSON.stringify(s.error), s.runAt);
      return;
    case 'release':
      args.push('release', s.id, s.token, '', '');
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let group = groups.get(k);
    if (!group) groups.set(k, (group = []));
    group.push(item);
  }
  return groups;
}
