/**
 * Resource pools on Redis. Each pool's keys share their own hash tag, `<prefix>:{pool:<name>}:`
 * (layout in lua/include/lib.lua), so each operation is one atomic script on one Cluster slot;
 * `<prefix>:pools` lists the pools for `poolsReclaimExpired` and `countersGet`.
 *
 * Terminology:
 * - free longest  free items wait in a LIST in the order they were freed; acquire pops its head.
 * - token         the pool's counter, advanced by every acquire; a release or renewal naming a
 *                 token other than the item's current one is refused.
 */
import type { PoolItem, PoolLease } from '../store.js';
import { decode, POOL_RELEASE_CODES, POOL_RENEW_CODES } from './codes.js';
import { call, type Client } from './connection.js';
import type { ScriptName } from './scripts.js';

/** What pools need from their store. */
export interface PoolScope {
  client: Client;
  description: string;
  prefix: string;
  /** The scripts' `now` argument ('' for Redis' TIME). */
  nowArg(): string;
  /** The channel `waitForChange` without queues listens on: pool waiters wake on add and release. */
  settledChannel: string;
  run(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown>;
}

type RawItem = [string, string | null, string | null, string | null];

export class RedisPools {
  readonly #scope: PoolScope;
  readonly #known = new Set<string>();

  constructor(scope: PoolScope) {
    this.#scope = scope;
  }

  /** The base of a pool's keys: its hash tag. */
  base(pool: string): string {
    return `${this.#scope.prefix}:{pool:${pool}}:`;
  }

  get #setKey(): string {
    return `${this.#scope.prefix}:pools`;
  }

  /** Every pool's name. */
  names(): Promise<string[]> {
    return call(this.#scope.description, () => this.#scope.client.smembers(this.#setKey));
  }

  /** List a pool in `<prefix>:pools` before its first write (once per handle), so its counters are summed. */
  async #list(pool: string): Promise<void> {
    if (this.#known.has(pool)) return;
    await call(this.#scope.description, () => this.#scope.client.sadd(this.#setKey, pool));
    this.#known.add(pool);
  }

  async add(pool: string, items: readonly string[]): Promise<number> {
    await this.#list(pool);
    if (items.length === 0) return 0;
    return (await this.#scope.run('pool_add', this.base(pool), [this.#scope.settledChannel, ...items])) as number;
  }

  async remove(pool: string, items: readonly string[]): Promise<number> {
    if (items.length === 0) return 0;
    return (await this.#scope.run('pool_remove', this.base(pool), [...items])) as number;
  }

  async acquire(pool: string, holder: string, ttlMs: number): Promise<PoolLease | null> {
    const raw = (await this.#scope.run('pool_acquire', this.base(pool), [this.#scope.nowArg(), holder, ttlMs])) as [string, number, number] | null;
    return raw && { pool, item: raw[0], token: Number(raw[1]), expiresAt: Number(raw[2]) };
  }

  async renew(pool: string, item: string, token: number, ttlMs: number): Promise<number | null> {
    const [code, expiresAt] = (await this.#scope.run('pool_renew', this.base(pool), [this.#scope.nowArg(), item, token, ttlMs])) as [string, number?];
    return decode(POOL_RENEW_CODES, code) === 'ok' ? Number(expiresAt) : null;
  }

  async release(pool: string, item: string, token: number): Promise<'released' | 'not-held'> {
    await this.#list(pool); // a release of a pool nobody added still counts double_release_total
    return decode(POOL_RELEASE_CODES, await this.#scope.run('pool_release', this.base(pool), [this.#scope.settledChannel, item, token]));
  }

  async items(pool: string): Promise<PoolItem[]> {
    const raw = (await this.#scope.run('pool_items', this.base(pool), [])) as RawItem[];
    return raw.map(([item, holder, token, expiresAt]) => ({
      item, holder, token: token === null ? null : Number(token), expiresAt: expiresAt === null ? null : Number(expiresAt),
    }));
  }

  async reclaimExpired(): Promise<number> {
    const counts = await Promise.all((await this.names()).map((pool) => this.#scope.run('pool_reclaim', this.base(pool), [this.#scope.nowArg()])));
    return counts.reduce<number>((sum, n) => sum + (n as number), 0);
  }
}
