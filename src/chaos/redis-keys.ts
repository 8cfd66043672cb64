/**
 * Deleting a namespace's keys from a Redis or a Redis Cluster (what `conveyor chaos` leaves, and
 * what a test leaves on the shared Redis): SCAN MATCH + UNLINK on each master.
 */
import { Cluster, Redis } from 'ioredis';

/** Where the keys are: a Redis URL, or a Cluster's seed nodes. */
export interface KeysTarget {
  url?: string;
  nodes?: { host: string; port: number }[];
}

/** Delete every key matching a SCAN MATCH pattern (for example `<prefix>:*`); answers how many. */
export async function deleteKeys(target: KeysTarget, match: string): Promise<number> {
  const client = target.nodes?.length
    ? new Cluster(target.nodes, { redisOptions: { connectTimeout: 2_000 } })
    : new Redis(target.url ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  client.on('error', () => {});
  let deleted = 0;
  try {
    await client.ping(); // a Cluster knows its masters once connected
    const servers = client instanceof Cluster ? client.nodes('master') : [client];
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        // A Cluster master holds many slots, and one command may touch only one: there, key by key.
        if (client instanceof Cluster) for (const key of keys) deleted += await server.unlink(key);
        else deleted += await server.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
  return deleted;
}
