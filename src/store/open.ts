/** Store selection by URL: `sqlite:<path>` (the default), `redis://` / `rediss://`. */
import { UnknownStoreError } from '../errors.js';
import type { Store, StoreOptions } from './store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import { RedisStore, type RedisStoreOptions } from './redis/redis-store.js';

/** The store used when neither the app nor `CONVEYOR_STORE` names one. */
export const DEFAULT_STORE_URL = 'sqlite:./conveyor.db';

/** A parsed store URL. */
export type StoreLocation =
  | { engine: 'sqlite'; path: string; synchronous: SqliteStoreOptions['synchronous'] }
  | ({ engine: 'redis' } & Pick<RedisStoreOptions, 'url' | 'nodes' | 'prefix' | 'maxRetryWaitMs'>);

/**
 * `redis://[user:pass@]host:port[/db][?prefix=conveyor&maxRetryWaitMs=10000]`, `rediss://` for TLS;
 * a Redis Cluster: `redis://host1:port1,host2:port2?cluster=1`.
 */
function parseRedisUrl(url: string): StoreLocation {
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  const prefix = params.get('prefix') ?? undefined;
  if (prefix !== undefined && !/^[\w.:-]+$/.test(prefix)) throw new UnknownStoreError(`store URL "${url}": prefix may hold letters, digits and _ . : - only, got "${prefix}"`);
  const wait = params.get('maxRetryWaitMs');
  const maxRetryWaitMs = wait === null ? undefined : Number(wait);
  if (maxRetryWaitMs !== undefined && !(Number.isInteger(maxRetryWaitMs) && maxRetryWaitMs > 0)) {
    throw new UnknownStoreError(`store URL "${url}": maxRetryWaitMs must be a positive integer (milliseconds), got "${wait}"`);
  }
  const cluster = params.get('cluster');
  if (cluster === '1' || cluster === 'true') {
    const hosts = base.replace(/^rediss?:\/\//, '').replace(/\/.*$/, '').split(',');
    const nodes = hosts.map((h) => {
      const m = /^([^:]+):(\d+)$/.exec(h.replace(/^.*@/, ''));
      if (!m) throw new UnknownStoreError(`store URL "${url}": cluster nodes must be host:port, comma-separated; got "${h}"`);
      return { host: m[1]!, port: Number(m[2]) };
    });
    return { engine: 'redis', nodes, prefix, maxRetryWaitMs };
  }
  if (base.includes(',')) throw new UnknownStoreError(`store URL "${url}" names several hosts: add ?cluster=1 for a Redis Cluster`);
  return { engine: 'redis', url: base, prefix, maxRetryWaitMs };
}

/**
 * Parse a store URL without opening anything.
 * @throws UnknownStoreError naming the URL and what to write instead.
 */
export function parseStoreUrl(url: string): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    const [rest, query = ''] = url.slice('sqlite:'.length).split('?', 2) as [string, string?];
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (!path) throw new UnknownStoreError(`store URL "${url}" has no path: write sqlite:./conveyor.db or sqlite:/abs/path.db`);
    const synchronous = new URLSearchParams(query).get('synchronous') ?? undefined;
    if (synchronous !== undefined && synchronous !== 'normal' && synchronous !== 'full') {
      throw new UnknownStoreError(`store URL "${url}": synchronous must be normal or full, got "${synchronous}"`);
    }
    return { engine: 'sqlite', path, synchronous };
  }
  if (scheme === 'redis' || scheme === 'rediss') return parseRedisUrl(url);
  throw new UnknownStoreError(
    `store URL "${url}" has ${scheme ? `an unknown scheme "${scheme}:"` : 'no scheme'}: use sqlite:<path> (for example sqlite:./conveyor.db) or redis://host:port`,
  );
}

/**
 * Open the store a URL names.
 * @example openStore('sqlite:./conveyor.db') // a file in the working directory
 * @example openStore('sqlite:///var/lib/app/queue.db?synchronous=full')
 * @example openStore('redis://127.0.0.1:6379/0?prefix=myapp')
 */
export function openStore(url: string, options: StoreOptions = {}): Store {
  const location = parseStoreUrl(url);
  if (location.engine === 'redis') {
    const { engine: _, ...target } = location;
    return new RedisStore({ ...options, ...target });
  }
  return new SqliteStore(location.path, { ...options, synchronous: location.synchronous });
}
