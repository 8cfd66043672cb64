/** Where a Redis store connects, and how it is shown (without credentials). */

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

/** The key prefix when the URL names none. */
export const DEFAULT_PREFIX = 'conveyor';

/** A display form of the target, without credentials. */
export function describeTarget(target: RedisTarget, prefix: string): string {
  const where = target.nodes?.length
    ? `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`
    : (target.url ?? 'redis://127.0.0.1:6379').replace(/\/\/[^@/]*@/, '//');
  return `${where} (prefix ${prefix})`;
}
