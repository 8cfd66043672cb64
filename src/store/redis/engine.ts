/**
 * The Redis engine's registry entry: `redis://[user:pass@]host:port[/db][?prefix=conveyor&maxRetryWaitMs=10000]`,
 * `rediss://` for TLS, a Redis Cluster as `redis://host1:port1,host2:port2?cluster=1`.
 */
import { UnknownStoreError } from '../../errors.js';
import type { Engine } from '../engine.js';
import { DEFAULT_PREFIX, describeTarget, type RedisTarget } from './target.js';

/** A parsed `redis://` or `rediss://` URL. */
export interface RedisLocation extends RedisTarget {
  engine: 'redis';
  prefix: string | undefined;
}

export const redisEngine: Engine<RedisLocation> = {
  schemes: ['redis', 'rediss'],
  example: 'redis://host:port',
  parseUrl(url) {
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
  },
  describe: (location) => describeTarget(location, location.prefix ?? DEFAULT_PREFIX),
  capabilities: () => ({ crossProcessWakeups: true, remoteCalls: true, callerTransactions: false }),
  async open(location, options) {
    const { RedisStore } = await import('./redis-store.js');
    const { engine: _, ...target } = location;
    return new RedisStore({ ...options, ...target });
  },
};
