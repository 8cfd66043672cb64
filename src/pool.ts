/**
 * Resource pools: a named set of items (executors, licences, sandbox accounts) that jobs hold one
 * at a time. Acquire is an atomic take in the store; every lease carries a fencing token, so a
 * holder whose lease lapsed (and whose item went to someone else) cannot release the new
 * holder's item; a second release is a harmless no-op, counted in `double_release_total`.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { toMs, type Duration } from './duration.js';
import { InvalidArgumentError, PoolExhaustedError } from './errors.js';
import { checkName } from './store/checks.js';
import type { PoolItem, PoolLease, Store } from './store/store.js';

/** Options of {@link Pool.acquire}. */
export interface AcquireOptions {
  /** How long the item is held unless renewed or released; then it returns to the pool. @default '5m' */
  ttl?: Duration;
  /** How long to wait for a free item before throwing PoolExhaustedError. @default 0 (try once) */
  wait?: Duration;
  /** Who holds it, shown in `items()`. @default `${hostname}:${pid}` */
  holder?: string;
}

/** A held item. Release it in `finally`, or with `await using`. */
export class PoolHandle {
  readonly pool: string;
  readonly item: string;
  /** The fencing token of this lease. */
  readonly token: number;
  #expiresAt: number;
  readonly #store: Store;
  readonly #logger: Logger;
  #released = false;

  /** @internal */
  constructor(lease: PoolLease, store: Store, logger: Logger) {
    this.pool = lease.pool;
    this.item = lease.item;
    this.token = lease.token;
    this.#expiresAt = lease.expiresAt;
    this.#store = store;
    this.#logger = logger;
  }

  /** When the lease lapses unless renewed (store clock, epoch ms). */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /**
   * Give the item back. Idempotent: releasing again, or after the lease lapsed and the item went
   * to another holder, changes nothing; it logs a warning and counts `double_release_total`.
   * @returns 'released', or 'not-held' when this lease no longer held the item.
   */
  async release(): Promise<'released' | 'not-held'> {
    const outcome = await this.#store.poolRelease({ pool: this.pool, item: this.item, token: this.token });
    if (outcome === 'not-held') {
      const why = this.#released ? 'it was already released' : 'its lease lapsed and the item went back to the pool';
      this.#logger.warn({ pool: this.pool, item: this.item, token: this.token }, `pool "${this.pool}": release of "${this.item}" (token ${this.token}) ignored: ${why}`);
    }
    this.#released = true;
    return outcome;
  }

  /**
   * Hold the item `ttl` longer from now.
   * @returns false when the lease is gone (lapsed and taken, or released).
   */
  async renew(ttl: Duration): Promise<boolean> {
    const ttlMs = toMs(ttl, 'renew(ttl)');
    const expiresAt = await this.#store.poolRenew({ pool: this.pool, item: this.item, token: this.token, ttlMs });
    if (expiresAt !== null) this.#expiresAt = expiresAt;
    return expiresAt !== null;
  }

  /** `await using lease = await pool.acquire()` releases it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#released) await this.release();
  }
}

/** A named pool of items, shared by every process on the store. Get one with `app.pool(name)`. */
export class Pool {
  readonly #store: () => Store;
  readonly #logger: () => Logger;

  /** @internal */
  constructor(readonly name: string, store: () => Store, logger: () => Logger) {
    checkName(name, 'pool name');
    this.#store = store;
    this.#logger = logger;
  }

  /** Add items (ones already in the pool are left as they are); answers how many were new. */
  add(...items: string[]): Promise<number> {
    checkItems(this.name, items);
    return this.#store().poolAdd({ pool: this.name, items });
  }

  /** Remove items; a held item leaves when it is released. Answers how many were in the pool. */
  remove(...items: string[]): Promise<number> {
    checkItems(this.name, items);
    return this.#store().poolRemove({ pool: this.name, items });
  }

  /**
   * Take the item free longest, atomically.
   * @throws PoolExhaustedError when none is free within `wait`.
   * @example
   * await using executor = await app.pool('executors').acquire({ ttl: '10m', wait: '30s' });
   * await evaluate(executor.item);
   */
  async acquire(options: AcquireOptions = {}): Promise<PoolHandle> {
    const ttlMs = toMs(options.ttl ?? '5m', 'acquire({ ttl })');
    if (ttlMs <= 0) throw new InvalidArgumentError(`acquire({ ttl }) must be positive, got ${ttlMs} ms`);
    const waitMs = toMs(options.wait ?? 0, 'acquire({ wait })');
    const holder = options.holder ?? `${hostname()}:${process.pid}`;
    const store = this.#store();
    // Waited time on the monotonic clock: a wall-clock jump neither cuts the wait short nor stretches it.
    const deadline = performance.now() + waitMs;
    for (;;) {
      const lease = await store.poolAcquire({ pool: this.name, holder, ttlMs });
      if (lease) return new PoolHandle(lease, store, this.#logger());
      const left = deadline - performance.now();
      if (left <= 0) throw new PoolExhaustedError(this.name, waitMs);
      // A release wakes the wait on stores that see other processes' writes; lapsed leases are
      // only noticed by trying again, so the pause stays short.
      await store.waitForChange({ timeoutMs: Math.min(left, 500) });
    }
  }

  /** The pool's items, free and held. */
  items(): Promise<PoolItem[]> {
    return this.#store().poolItems(this.name);
  }
}

function checkItems(pool: string, items: readonly unknown[]): void {
  if (items.length === 0) throw new InvalidArgumentError(`pool "${pool}": give at least one item (the ids of the things pooled)`);
  items.forEach((item, i) => checkName(item, `pool "${pool}": items[${i}]`));
}
