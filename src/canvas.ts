/**
 * Workflows (Celery's canvas): signatures, callbacks, `chain`, `group` and `chord`.
 *
 * Terminology:
 * - signature  a task with args and options, not yet sent (`task.s(...)`, or `task.si(...)`
 *              for one that ignores the result of the job that fires it).
 * - callback   a signature stored with a job and enqueued by the store, once, in the same
 *              transition that makes the job final: `link` on success, `linkError` on failure or
 *              revoke, `finally` on either.
 * - chain      each step is the `link` of the one before; each gets its parent's result first.
 * - chord      a group whose members each carry the callback; the store records each member's
 *              outcome under (chord, index) and the last one enqueues the callback, once.
 * - join       a chain link's identity (a digest of what it runs from there on). A chain whose
 *              first job is deduplicated continues after the job holding its key, and a chord
 *              member deduplicated lends its place to that job: see JobRecord.followers.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import { buildJob, canonicalJson, prependArg, type SendDefaults, type SendOptions } from './message.js';
import { AsyncResult } from './result.js';
import type { Callback, CallbackJob, EnqueueResult, NewJob, Store } from './store/store.js';

/** Per-call options of `applyAsync` (and `app.send`): the job's own, and the tasks it links to. */
export interface ApplyOptions extends SendOptions {
  /** Tasks to send once, when this job succeeds (Celery's `link`); each gets the result as its first arg (unless made with `si`). */
  link?: Signature | readonly Signature[];
  /** Tasks to send once, when this job fails for good or is revoked (Celery's `link_error`). */
  linkError?: Signature | readonly Signature[];
  /** Tasks to send once, when this job ends either way. */
  finally?: Signature | readonly Signature[];
  /**
   * Your open database transaction (PostgreSQL store only): the job is inserted in it, so it
   * exists — and runs — only if that transaction commits. A node-postgres client after BEGIN, a
   * postgres.js transaction, or anything with `query(text, values)` answering `{ rows }`. Inside
   * `app.withTransaction(tx, fn)` every send (chains, groups and chords too) uses it.
   * @example await client.query('BEGIN'); await insertOrder(client); await invoice.applyAsync([orderId], { tx: client }); await client.query('COMMIT')
   */
  tx?: unknown;
}

/** The task-level defaults a job is built from, with the callbacks every job of the task gets. */
export interface JobDefaults extends SendDefaults {
  /** Callbacks every job of the task gets (before a call's own). */
  callbacks?: { link?: readonly Signature[]; linkError?: readonly Signature[]; finally?: readonly Signature[] };
}

/** What sending a workflow needs from the app. */
export interface CanvasSender {
  /** @internal */
  enqueueJobs(jobs: readonly NewJob[]): Promise<EnqueueResult[]>;
  readonly store: Store;
}

/** A task call not yet sent: its name, args and options. Make one with `task.s()` or `task.si()`. */
export class Signature<R = unknown> {
  /** @internal */
  constructor(
    readonly task: string,
    readonly args: readonly unknown[],
    readonly options: ApplyOptions,
    /** True (`si`): as a link, it does not get its parent's result as first argument. */
    readonly immutable: boolean,
    /** @internal */
    readonly defaults: JobDefaults,
    /** @internal */
    readonly sender: CanvasSender,
  ) {}

  /** A copy with more options (Celery's `.set()`). */
  set(options: ApplyOptions): Signature<R> {
    return new Signature<R>(this.task, this.args, { ...this.options, ...options }, this.immutable, this.defaults, this.sender);
  }

  /** Send it on its own. */
  async applyAsync(): Promise<AsyncResult<R>> {
    const job = buildCall(this);
    const [outcome] = await this.sender.enqueueJobs([job]);
    return new AsyncResult<R>(outcome!.id, () => this.sender.store);
  }

  /** Alias of `applyAsync()`. */
  delay(): Promise<AsyncResult<R>> {
    return this.applyAsync();
  }
}

const asList = (s: Signature | readonly Signature[] | undefined): readonly Signature[] => (s === undefined ? [] : Array.isArray(s) ? s : [s as Signature]);

/** The callbacks of a call: its task's default ones, then the call's own. */
export function callbacksOf(options: ApplyOptions, defaults: JobDefaults): Callback[] {
  const d = defaults.callbacks;
  return [
    ...[...asList(d?.link), ...asList(options.link)].map((sig): Callback => ({ on: 'success', passResult: !sig.immutable, job: callbackJob(sig) })),
    ...[...asList(d?.linkError), ...asList(options.linkError)].map((sig): Callback => ({ on: 'failure', passResult: false, job: callbackJob(sig) })),
    ...[...asList(d?.finally), ...asList(options.finally)].map((sig): Callback => ({ on: 'final', passResult: false, job: callbackJob(sig) })),
  ];
}

/** A signature as the job a store enqueues for it later (at once, no expiry). */
export function callbackJob(sig: Signature): CallbackJob {
  const { countdown, eta, expires, idempotencyKey } = sig.options;
  if (countdown !== undefined || eta !== undefined || expires !== undefined || idempotencyKey !== undefined) {
    throw new InvalidArgumentError(`signature of "${sig.task}": a callback starts when its parent ends, so countdown, eta, expires and idempotencyKey cannot be set on it`);
  }
  const job = buildCall(sig);
  return { id: job.id, task: job.task, queue: job.queue, argsJson: job.argsJson, priority: job.priority, maxDeliveries: job.maxDeliveries, callbacks: job.callbacks };
}

/** The job for a signature, with its callbacks. */
function buildCall(sig: Signature): NewJob {
  const job = buildJob(sig.task, sig.args, sig.defaults, sig.options);
  const callbacks = callbacksOf(sig.options, sig.defaults);
  return callbacks.length ? { ...job, callbacks } : job;
}

/** A chain's result: the last step's, whose `get` also fails when an earlier step failed. */
export class ChainResult<R = unknown> extends AsyncResult<R> {
  /** @internal */
  constructor(id: string, store: () => Store, readonly parents: readonly AsyncResult[]) {
    super(id, store);
  }

  override async get(options: Parameters<AsyncResult<R>['get']>[0] = {}): Promise<R> {
    // Follow the steps in order, as Celery does: an earlier step's failure is the chain's.
    for (const parent of this.parents) await parent.get(options);
    return super.get(options);
  }
}

/**
 * Run signatures one after another, each getting the previous result as its first argument.
 * If the first step is deduplicated (its key held by another job), the chain goes on after that
 * job, with its result: its next steps run once however many identical chains are sent.
 * @example const r = await chain(fetchPage.s(url), parse.s(), save.s()).applyAsync(); await r.get()
 */
export function chain<R = unknown>(...steps: Signature[]): { applyAsync(): Promise<ChainResult<R>> } {
  if (steps.length === 0) throw new InvalidArgumentError('chain() needs at least one signature');
  return {
    async applyAsync() {
      let next: Callback | undefined;
      const links: Callback[] = [];
      for (let i = steps.length - 1; i >= 1; i--) {
        next = chainLink(withLink(callbackJob(steps[i]!), next), steps[i]!.immutable);
        links.unshift(next);
      }
      const sender = steps[0]!.sender;
      const [outcome] = await sender.enqueueJobs([withLink(buildCall(steps[0]!), next)]);
      const store = () => sender.store;
      // Deduplicated: the chain goes on after the holder, by the links it holds (an identical
      // chain's, or ours joined to it), or by ours fired at once if it had already ended.
      const ids = outcome!.created ? links.map((l) => l.job.id) : await linksFollowed(sender.store, outcome!.id, links);
      const all = [outcome!.id, ...ids];
      return new ChainResult<R>(all.at(-1)!, store, all.slice(0, -1).map((id) => new AsyncResult(id, store)));
    },
  };
}

/** A chain's link to `job`: a success callback with its join, the digest of what it runs from there on. */
function chainLink(job: CallbackJob, immutable: boolean): Callback {
  const content = (j: CallbackJob): unknown => [j.task, j.queue, j.argsJson, j.priority, j.maxDeliveries,
    (j.callbacks ?? []).map((c) => c.join ?? [c.on, c.passResult, content(c.job)])];
  const join = createHash('sha256').update(canonicalJson([!immutable, content(job)])).digest('base64url');
  return { on: 'success', passResult: !immutable, job, join };
}

function withLink<J extends CallbackJob>(job: J, next: Callback | undefined): J {
  if (!next) return job;
  return { ...job, callbacks: [...(job.callbacks ?? []), next] };
}

/** The ids of the steps a deduplicated chain's holder goes on with: those with our links' joins, else ours. */
async function linksFollowed(store: Store, holder: string, links: readonly Callback[]): Promise<string[]> {
  const record = await store.jobGet(holder);
  let candidates: readonly Callback[] = record ? [...record.callbacks, ...record.followers.callbacks] : [];
  const ids: string[] = [];
  for (const link of links) {
    const held = candidates.find((c) => c.join === link.join);
    if (!held) return [...ids, ...links.slice(ids.length).map((l) => l.job.id)];
    ids.push(held.job.id);
    candidates = held.job.callbacks ?? [];
  }
  return ids;
}

/** The results of a group, in member order. */
export class GroupResult<R = unknown> {
  /** @internal */
  constructor(readonly results: readonly AsyncResult<R>[]) {}

  /** Every member's result, in order; throws the first failure met. */
  async get(options: Parameters<AsyncResult<R>['get']>[0] = {}): Promise<R[]> {
    const values: R[] = [];
    for (const r of this.results) values.push(await r.get(options));
    return values;
  }
}

/**
 * Send signatures together, in one atomic enqueue.
 * @example const g = await group(resize.s(a), resize.s(b)).applyAsync(); const [x, y] = await g.get()
 */
export function group<R = unknown>(...members: Signature[]): { applyAsync(): Promise<GroupResult<R>> } {
  return {
    async applyAsync() {
      if (members.length === 0) return new GroupResult<R>([]);
      const sender = members[0]!.sender;
      const outcomes = await sender.enqueueJobs(members.map((m) => buildCall(m)));
      return new GroupResult<R>(outcomes.map((o) => new AsyncResult<R>(o.id, () => sender.store)));
    },
  };
}

/**
 * A group, then `callback` once every member has ended: it gets the members' results (in
 * order) as its first argument. If a member fails, the callback fails with a ChordError instead.
 * @example const r = await chord([count.s(a), count.s(b)], sum.s()).applyAsync(); await r.get()
 */
export function chord<R = unknown>(members: readonly Signature[], callback: Signature<R>): { applyAsync(): Promise<AsyncResult<R>> } {
  return {
    async applyAsync() {
      const sender = callback.sender;
      const cb = callbackJob(callback);
      if (members.length === 0) {
        const job: NewJob = { ...cb, argsJson: prependArg('[]', cb.argsJson), runAt: null, expiresAt: null };
        await sender.enqueueJobs([job]);
      } else {
        await sender.enqueueJobs(members.map((m, index) => ({ ...buildCall(m), chord: { index, size: members.length, callback: cb } })));
      }
      return new AsyncResult<R>(cb.id, () => sender.store);
    },
  };
}
