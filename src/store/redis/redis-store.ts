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
 * Exactly-once effects in Cluster: enqueue dedup is per queue (a key is held within the queue of
 * the job holding it; the same key in two queues holds twice). A callback or chord result bound
 * for another queue goes through the outbox of the finishing job's slot (see redis-outbox.ts).
 * Pools have their own tag per pool (redis-pools.ts); counters are kept per slot and summed.
 *
 * One clock: every time decision (is a job due, has a lease lapsed, is a key still held, has a
 * pool item lapsed) is made inside the script, on Redis' own clock (`TIME`), so workers on hosts
 * whose clocks disagree never take healthy work from each other; the adapter sends durations,
 * never its `now`. A test clock given as `clock` replaces TIME (its reading is passed as `now`).
 * In a Cluster each master's clock decides for its slots: a job, its lease and its key always
 * share one slot.
 */
import type { Cluster, Redis } from 'ioredis';
import { toJson } from '../../message.js';
import type {
  Counters, EnqueueOptions, EnqueueResult, JobRecord, LeaseRef, ListParams, NewJob, PoolItem, PoolLease, QueueStats, RecoverResult,
  ReserveParams, ReservedJob, RetryAnswer, Settlement, SettleAndReserveResult, StepOutcome, StepRecord, Store, StoreOptions, WaitParams,
  TransactionOutcome, WorkerInfo, WriteOutcome,
} from '../store.js';
import * as checks from '../checks.js';
import { revokedError } from '../policy.js';
import { decode, fenceOutcome, RETRY_CODES, REVOKE_CODES } from './codes.js';
import { call, connect, type Client } from './connection.js';
import { DEFAULT_PREFIX, describeTarget, type RedisTarget } from './target.js';
import { chordRetryArgs } from './redis-dead-letter.js';
import { RedisEnqueuer } from './redis-enqueue.js';
import { IdRegistry } from './redis-ids.js';
import { groupBy, JobLocator } from './redis-locator.js';
import { OutboxRelay } from './redis-outbox.js';
import { RedisPools } from './redis-pools.js';
import { RedisViews } from './redis-views.js';
import { RedisScheduleTicks } from './redis-schedule-ticks.js';
import { RedisSteps } from './redis-steps.js';
import { RedisWorkers } from './redis-workers.js';
import { toParent, toRecord } from './records.js';
import { defineScripts, runScript, type ScriptName } from './scripts.js';
import { RedisWakeups } from './wakeups.js';
import { pushSettlement } from './wire.js';

const DAY_MS = 86_400_000;

/** Options of the Redis store. */
export interface RedisStoreOptions extends StoreOptions, RedisTarget {
  /** Prefix of every key, so several apps or tests share one Redis. @default 'conveyor' */
  prefix?: string;
}

/** A job as take() in lib.lua answers it. */
type Raw = [string, string, string, string, number, number, string, string | null];

// Scripts whose writes nobody waits for. pool_acquire above all: a waiter woken by another waiter's
// failed acquire would try again at once, and they would keep each other busy.
const QUIET_SCRIPTS: ReadonlySet<ScriptName> = new Set([
  'id_claim', 'id_release', 'peek', 'renew', 'step_get', 'step_put', 'pool_items', 'pool_renew', 'pool_acquire',
  'progress', 'worker_heartbeat', 'workers_list', 'worker_remove', 'tick_advance', 'tick_get',
]);

export class RedisStore implements Store {
  readonly capabilities = { crossProcessWakeups: true, remoteCalls: true, callerTransactions: false };
  readonly description: string;
  readonly #client: Client;
  readonly #wakeups: RedisWakeups;
  readonly #prefix: string;
  /** The test clock, when one was given; else the scripts read Redis' TIME. */
  readonly #clock: (() => number) | undefined;
  readonly #revokedTtlMs: number;
  readonly #locator: JobLocator;
  readonly #ids: IdRegistry;
  readonly #enqueuer: RedisEnqueuer;
  readonly #views: RedisViews;
  readonly #outbox: OutboxRelay;
  readonly #pools: RedisPools;
  readonly #steps: RedisSteps;
  readonly #workers: RedisWorkers;
  readonly #ticks: RedisScheduleTicks;

  constructor(options: RedisStoreOptions = {}) {
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#clock = options.clock;
    this.#revokedTtlMs = options.revokedTtlMs ?? DAY_MS;
    this.description = describeTarget(options, this.#prefix);
    this.#client = connect(options);
    this.#client.on('error', () => {}); // reconnects on its own; failed commands report through call()
    defineScripts(this.#client);
    this.#wakeups = new RedisWakeups(this.#client, this.description);
    this.#ids = new IdRegistry({
      client: this.#client, description: this.description, prefix: this.#prefix, cluster: Boolean(options.nodes?.length),
      run: (name, base, args) => this.#runOn(name, base, args),
    });
    this.#locator = new JobLocator(this.#client, this.description, this.#prefix, this.#ids);
    this.#views = new RedisViews(this.#client, this.description, this.#locator, () => this.#storeNow());
    const scope = {
      client: this.#client, description: this.description, prefix: this.#prefix, nowArg: () => this.#nowArg(),
      run: (name: ScriptName, base: string, args: (string | number)[]) => this.#runOn(name, base, args),
    };
    const locator = this.#locator;
    this.#outbox = new OutboxRelay({ ...scope, ids: this.#ids, base: (q) => locator.base(q), addQueue: (q) => locator.addQueue(q) });
    this.#pools = new RedisPools({ ...scope, settledChannel: this.#settledChannel });
    this.#steps = new RedisSteps({ ...scope, locator });
    this.#workers = new RedisWorkers(scope);
    this.#enqueuer = new RedisEnqueuer({
      ...scope, ids: this.#ids, locator, outbox: this.#outbox, wakeChannel: (q) => this.#wakeChannel(q),
      runOn: (name, queue, args) => this.#run(name, queue, args),
    });
    this.#ticks = new RedisScheduleTicks(scope);
  }

  /** The `now` argument of every script: the test clock's reading, or '' for Redis' TIME. */
  #nowArg(): string {
    return this.#clock ? String(this.#clock()) : '';
  }

  /** The store's clock here, for reads that are not decisions (a timer until a job is due, a view). */
  async #storeNow(): Promise<number> {
    if (this.#clock) return this.#clock();
    const [seconds, micros] = await call(this.description, () => this.#client.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  #wakeChannel(queue: string): string {
    return `${this.#prefix}:wake:${queue}`;
  }

  get #settledChannel(): string {
    return `${this.#prefix}:settled`;
  }

  /** Run a script on a queue's keys. */
  #run(name: ScriptName, queue: string, args: (string | number)[]): Promise<unknown> {
    return this.#runOn(name, this.#locator.base(queue), args);
  }

  /** Run a script; a write made through this handle wakes this handle's waiters at once. */
  async #runOn(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown> {
    const result = await call(this.description, () => runScript(this.#client, name, base, args));
    if (!QUIET_SCRIPTS.has(name)) this.#wakeups.notify();
    return result;
  }

  async jobsEnqueue(jobs: readonly NewJob[], options?: EnqueueOptions): Promise<EnqueueResult[]> {
    checks.checkNoTransaction(options, this.description);
    checks.checkNewJobs(jobs);
    return this.#enqueuer.enqueue(jobs);
  }

  #reserved(queue: string, raw: Raw[], leaseMs: number, now: number): ReservedJob[] {
    return raw.map(([id, task, argsJson, attempt, deliveries, token, enqueuedAt, parent]) => {
      this.#locator.remember(id, queue);
      return {
        id, task, queue, argsJson, attempt: Number(attempt), deliveries: Number(deliveries), token: Number(token),
        enqueuedAt: Number(enqueuedAt), leaseExpiresAt: now + leaseMs, parent: toParent(parent),
      };
    });
  }

  async jobsReserve(params: ReserveParams): Promise<ReservedJob[]> {
    checks.checkReserve(params);
    return this.#reserve(params);
  }

  async #reserve(params: ReserveParams): Promise<ReservedJob[]> {
    if (params.limit <= 0 || params.queues.length === 0) return [];
    if (params.queues.length === 1) return this.#take(params.queues[0]!, params.limit, params);
    // Across queues: read each queue's head, merge by priority then run time, take each share.
    const heads = await Promise.all(params.queues.map(async (queue) => {
      const flat = (await this.#run('peek', queue, [this.#nowArg(), params.limit])) as string[];
      const entries = [];
      for (let i = 0; i < flat.length; i += 2) entries.push({ queue, member: flat[i]!, score: Number(flat[i + 1]) });
      return entries;
    }));
    const order = heads.flat().sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0)).slice(0, params.limit);
    const shares = groupBy(order, (e) => e.queue);
    const taken = await Promise.all([...shares].map(([queue, entries]) => this.#take(queue, entries.length, params)));
    const rank = new Map(order.map((e, i) => [e.member.slice(32), i]));
    return taken.flat().sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity));
  }

  async #take(queue: string, limit: number, params: ReserveParams): Promise<ReservedJob[]> {
    const args = [this.#nowArg(), params.workerId, limit, params.leaseMs, this.#revokedTtlMs, this.#prefix, this.#ids.scriptArg];
    const [raw, outboxed, now] = (await this.#run('reserve', queue, args)) as [Raw[], number, number];
    if (outboxed > 0) await this.#outbox.relay([queue]);
    return this.#reserved(queue, raw, params.leaseMs, now);
  }

  async jobsSettle(settlements: readonly Settlement[]): Promise<WriteOutcome[]> {
    return (await this.jobsSettleAndReserve({ settlements, reserve: null })).outcomes;
  }

  async jobsSettleAndReserve(params: { settlements: readonly Settlement[]; reserve: ReserveParams | null }): Promise<SettleAndReserveResult> {
    checks.checkSettlements(params.settlements);
    if (params.reserve) checks.checkReserve(params.reserve);
    const outcomes: WriteOutcome[] = new Array(params.settlements.length);
    const groups = await this.#locator.byQueue(params.settlements, outcomes);
    const reserve = params.reserve;
    // The common case — one queue to settle and reserve from — is one script, one round trip.
    const combined = reserve && reserve.queues.length === 1 && [...groups.keys()].every((q) => q === reserve.queues[0]) ? reserve.queues[0]! : undefined;
    let jobs: ReservedJob[] = [];
    await Promise.all([...groups].map(async ([queue, entries]) => {
      const limit = queue === combined ? reserve!.limit : 0;
      const args: (string | number)[] = [
        this.#nowArg(), this.#settledChannel, this.#wakeChannel(queue), this.#revokedTtlMs, limit, reserve?.workerId ?? '', reserve?.leaseMs ?? 0,
        this.#prefix, this.#ids.scriptArg,
      ];
      for (const { item } of entries) pushSettlement(args, item);
      const [codes, raw, outboxed, now] = (await this.#run('settle', queue, args)) as [string[], Raw[], number, number];
      if (outboxed > 0) await this.#outbox.relay([queue]);
      entries.forEach(({ item, index }, i) => {
        outcomes[index] = fenceOutcome(item.id, codes[i]!);
      });
      if (limit > 0) {
        jobs = this.#reserved(queue, raw, reserve!.leaseMs, now);
        // Under Cluster a callback to this very queue was created by the relay, after the script
        // reserved: take it now too, as one script does on a single Redis.
        if (outboxed > 0 && this.#ids.claimsFirst && jobs.length < limit) jobs.push(...(await this.#take(queue, limit - jobs.length, reserve!)));
      }
    }));
    if (reserve && (combined === undefined || groups.size === 0)) jobs = await this.#reserve(reserve);
    return { outcomes, jobs };
  }

  async jobsRenew(params: { leases: readonly LeaseRef[]; leaseMs: number }): Promise<WriteOutcome[]> {
    checks.checkRenew(params);
    const outcomes: WriteOutcome[] = new Array(params.leases.length);
    await Promise.all([...(await this.#locator.byQueue(params.leases, outcomes))].map(async ([queue, entries]) => {
      const codes = (await this.#run('renew', queue, [this.#nowArg(), params.leaseMs, ...entries.flatMap(({ item }) => [item.id, item.token])])) as string[];
      entries.forEach(({ item, index }, i) => (outcomes[index] = fenceOutcome(item.id, codes[i]!)));
    }));
    return outcomes;
  }

  async jobRevoke(params: { id: string; terminate: boolean; reason?: string }): Promise<'revoked' | 'final' | 'missing'> {
    checks.checkName(params.id, 'id');
    if (params.reason !== undefined) checks.checkText(params.reason, 'reason');
    const queue = await this.#locator.locate(params.id);
    if (queue === undefined) return 'missing';
    const error = toJson(revokedError(params.reason), 'error');
    const args = [this.#nowArg(), params.id, params.terminate ? 1 : 0, error, this.#revokedTtlMs, this.#settledChannel, this.#prefix, this.#ids.scriptArg];
    const answer = decode(REVOKE_CODES, await this.#run('revoke', queue, args));
    // Revokes are rare: look in the outbox rather than widen the script's answer.
    if (answer === 'revoked') await this.#outbox.relay([queue]);
    return answer;
  }

  async jobRetry(id: string): Promise<RetryAnswer> {
    checks.checkName(id, 'id');
    const queue = await this.#locator.locate(id);
    if (queue === undefined) return 'missing';
    const scope = { client: this.#client, description: this.description, jobGet: (member: string) => this.jobGet(member) };
    const members = await chordRetryArgs(scope, this.#locator.base(queue), id);
    if (members === 'chord-failed') return members;
    const args = [this.#nowArg(), id, this.#wakeChannel(queue), ...members];
    return decode(RETRY_CODES, await this.#run('retry_final', queue, args));
  }

  async jobsRecoverExpired(): Promise<RecoverResult> {
    const result: RecoverResult = { requeued: [], failed: [] };
    const queues = await this.#locator.queues();
    for (const queue of queues) {
      const [requeued, failed] = (await this.#run('recover', queue, [this.#nowArg(), this.#wakeChannel(queue), this.#prefix, this.#ids.scriptArg])) as [string[], string[], number];
      result.requeued.push(...requeued);
      result.failed.push(...failed);
    }
    // Every outbox, not only those written now: a process may have died between a transition and its relay.
    await this.#outbox.relay(queues);
    return result;
  }

  async jobsDeleteExpired(): Promise<number> {
    let total = 0;
    for (const queue of await this.#locator.queues()) {
      for (let n = 1000; n === 1000; total += n) {
        const [deleted, outboxed] = (await this.#run('delete_expired', queue, [this.#nowArg(), this.#prefix, this.#ids.scriptArg])) as [number, number];
        if (outboxed > 0) await this.#outbox.relay([queue]); // Cluster: the deleted jobs' ids to release
        n = deleted;
      }
    }
    return total;
  }

  async jobGet(id: string): Promise<JobRecord | null> {
    const queue = await this.#locator.locate(id);
    if (queue === undefined) return null;
    const hash = await call(this.description, () => this.#client.hgetall(`${this.#locator.base(queue)}job:${id}`));
    const record = toRecord(id, queue, hash);
    if (!record) this.#locator.forget(id);
    return record;
  }

  jobsList(params: ListParams): Promise<JobRecord[]> {
    return this.#views.jobsList(params);
  }

  async queuePurge(queue: string): Promise<number> {
    checks.checkQueueName(queue, 'queue');
    const [deleted, outboxed] = (await this.#run('purge', queue, [this.#prefix, this.#ids.scriptArg])) as [number, number];
    if (outboxed > 0) await this.#outbox.relay([queue]);
    return deleted;
  }

  queueStats(): Promise<QueueStats[]> {
    return this.#views.queueStats();
  }

  waitForChange(params: WaitParams): Promise<void> {
    const queues = params.queues ?? [];
    const channels = queues.length ? queues.map((q) => this.#wakeChannel(q)) : [this.#settledChannel];
    return this.#wakeups.wait(params.timeoutMs, params.signal, channels, () => this.#nextDue(queues));
  }

  /** When the earliest scheduled job of these queues comes due, as an epoch ms of this process's clock (the timer's). */
  async #nextDue(queues: readonly string[]): Promise<number | undefined> {
    let earliest = Infinity;
    for (const queue of queues) {
      const [, score] = await this.#client.zrange(`${this.#locator.base(queue)}scheduled`, '0', '0', 'WITHSCORES');
      if (score !== undefined) earliest = Math.min(earliest, Number(score));
    }
    if (earliest === Infinity) return undefined;
    // Scores are on the store's clock: convert the distance, not the instant, to this process's.
    return Date.now() + earliest - (await this.#storeNow());
  }

  async jobStepGet(params: { id: string; token: number; name: string }): Promise<StepOutcome> {
    checks.checkStep(params);
    return this.#steps.get(params.id, params.token, params.name);
  }

  async jobStepPut(params: { id: string; token: number; name: string; resultJson: string }): Promise<StepOutcome> {
    checks.checkStep(params);
    return this.#steps.put(params.id, params.token, params.name, params.resultJson);
  }

  async jobCompleteInTransaction<T>(): Promise<TransactionOutcome<T>> {
    throw checks.noCallerTransactions(this.description);
  }

  jobSteps(id: string): Promise<StepRecord[]> {
    return this.#steps.list(id);
  }

  async poolAdd(params: { pool: string; items: readonly string[] }): Promise<number> {
    checks.checkPool(params.pool, params.items);
    return this.#pools.add(params.pool, params.items);
  }

  async poolRemove(params: { pool: string; items: readonly string[] }): Promise<number> {
    checks.checkPool(params.pool, params.items);
    return this.#pools.remove(params.pool, params.items);
  }

  async poolAcquire(params: { pool: string; holder: string; ttlMs: number }): Promise<PoolLease | null> {
    checks.checkPoolAcquire(params);
    return this.#pools.acquire(params.pool, params.holder, params.ttlMs);
  }

  async poolRenew(params: { pool: string; item: string; token: number; ttlMs: number }): Promise<number | null> {
    checks.checkPoolRenew(params);
    return this.#pools.renew(params.pool, params.item, params.token, params.ttlMs);
  }

  async poolRelease(params: { pool: string; item: string; token: number }): Promise<'released' | 'not-held'> {
    checks.checkPoolLease(params);
    return this.#pools.release(params.pool, params.item, params.token);
  }

  poolItems(pool: string): Promise<PoolItem[]> {
    return this.#pools.items(pool);
  }

  poolsReclaimExpired(): Promise<number> {
    return this.#pools.reclaimExpired();
  }

  /** Each queue's, pool's and (under Cluster) id bucket's slot counts its own; the sum is the store's. */
  async countersGet(): Promise<Counters> {
    const [queues, pools] = await Promise.all([this.#locator.queues(), this.#pools.names()]);
    return this.#views.counters([...queues.map((q) => this.#locator.base(q)), ...pools.map((p) => this.#pools.base(p)), ...this.#ids.bases()]);
  }

  async jobProgress(params: { id: string; token: number; fraction: number; infoJson: string | null }): Promise<WriteOutcome> {
    checks.checkProgress(params);
    const queue = await this.#locator.locate(params.id);
    if (queue === undefined) return { id: params.id, ok: false, reason: 'missing', terminate: false };
    const args = [this.#nowArg(), params.id, params.token, String(params.fraction), params.infoJson ?? ''];
    return fenceOutcome(params.id, (await this.#run('progress', queue, args)) as string);
  }

  async workersHeartbeat(params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }): Promise<void> {
    checks.checkHeartbeat(params);
    return this.#workers.heartbeat(params.worker, params.ttlMs);
  }

  workersList(): Promise<WorkerInfo[]> {
    return this.#workers.list();
  }

  workerRemove(id: string): Promise<void> {
    return this.#workers.remove(id);
  }

  scheduleTickGet(schedule: string): Promise<number | null> {
    return this.#ticks.get(schedule);
  }

  async scheduleTickAdvance(params: { schedule: string; tick: number }): Promise<boolean> {
    checks.checkName(params.schedule, 'schedule');
    checks.checkInteger(params.tick, 'tick', 0);
    return this.#ticks.advance(params.schedule, params.tick);
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

