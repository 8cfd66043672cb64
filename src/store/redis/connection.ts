/**
 * Connections to Redis or a Redis Cluster, and what a lost connection looks like to callers:
 * commands wait for a reconnect at most `maxRetryWaitMs`, then fail with StoreUnavailableError —
 * a `delay()` while Redis is down fails clearly, it never hangs.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';

/** Where the store connects. */
export interface RedisTarget {
  /** `redis://[user:pass@]host:port/db` or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Redis Cluster seed nodes; when given, the store uses a cluster client. */
  nodes?: { host: string; port: number }[];
  /**
   * How long a command waits for a lost connection to come back before failing (ioredis'
   * commandTimeout: measured between one and two times this). @default 10000
   */
  maxRetryWaitMs?: number;
}

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

/** A display form of the target, without credentials. */
export function describeTarget(target: RedisTarget, prefix: string): string {
  const where = target.nodes?.length
    ? `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`
    : (target.url ?? 'redis://127.0.0.1:6379').replace(/\/\/[^@/]*@/, '//');
  return `${where} (prefix ${prefix})`;
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
