/**
 * Connections to Redis or a Redis Cluster, and what a lost connection looks like to callers:
 * commands wait for a reconnect at most `maxRetryWaitMs`, then fail with StoreUnavailableError —
 * a `delay()` while Redis is down fails clearly, it never hangs.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';
import type { RedisTarget } from './target.js';

export type Client = Redis | Cluster;

export function connect(target: RedisTarget): Client {
  const options: RedisOptions = {
    // Retry while reconnecting; each command is bounded by commandTimeout instead of a count.
    maxRetriesPerRequest: null,
    commandTimeout: target.maxRetryWaitMs ?? 10_000,
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  };
  if (target.nodes?.length) {
    return new Cluster(target.nodes, { redisOptions: options, enableAutoPipelining: true, clusterRetryStrategy: (n) => Math.min(100 * n, 2000) });
  }
  return new Redis(target.url ?? 'redis://127.0.0.1:6379', options);
}

/** Errors that mean "Redis did not answer", as opposed to a script or data error. */
function isUnavailable(err: unknown): boolean {
  const message = (err as Error | undefined)?.message ?? '';
  return /Command timed out|Connection is closed|connect ECONNREFUSED|ECONNRESET|MaxRetriesPerRequest|Cluster.*(down|isn't ready)|CLUSTERDOWN|Stream isn't writeable/i.test(message);
}

/** Run a Redis call, turning "no answer" into a StoreUnavailableError that says what to check. */
export async function call<T>(description: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUnavailable(err)) {
      throw new StoreUnavailableError(`Redis at ${description} is unreachable (${(err as Error).message}): check that the server is up and the URL is right`, { cause: err });
    }
    throw err;
  }
}
