/**
 * Redis for tests: the shared Redis every test uses under a key prefix of its own, private
 * standalone servers (src/chaos/redis-server.ts, re-exported here), and a 3-master Redis Cluster.
 * Every process started here is killed by `stop()`, and — should a test forget or crash — by an
 * exit handler, so no test leaves a redis-server behind. Every wait is bounded.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { forgetFolder, kill, removeAtExit } from '../../src/chaos/processes.js';
import { deleteKeys as deleteKeysOf } from '../../src/chaos/redis-keys.js';
import { freePort } from '../../src/chaos/free-port.js';
import { cli, REDIS_CLI, spawnServer, waitReady, type ServerProcess } from '../../src/chaos/redis-server.js';

export { freePort } from '../../src/chaos/free-port.js';
export { cli, REDIS_CLI, REDIS_SERVER, startRedis, type RedisServer, type RedisServerOptions } from '../../src/chaos/redis-server.js';

const run = promisify(execFile);

// ---- the shared Redis (127.0.0.1:6379) ----

/** The Redis the conformance and crash tests share, each under its own key prefix. */
export const SHARED_REDIS_URL = process.env.CONVEYOR_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Starts every prefix this test process hands out, so one SCAN finds all of its keys. */
const RUN_PREFIX = `conveyor-test-${randomBytes(4).toString('hex')}`;
let prefixes = 0;

/**
 * A key prefix no other test (in this or another process) uses. Fixed width, so no prefix is the
 * start of another, and free of glob characters, so it can go into a SCAN MATCH pattern as is.
 */
export function uniquePrefix(): string {
  return `${RUN_PREFIX}-${String(++prefixes).padStart(5, '0')}`;
}

/** The SCAN MATCH pattern of every key under the prefixes {@link uniquePrefix} gave out so far. */
export const ALL_TEST_KEYS = `*${RUN_PREFIX}-*`;

/**
 * Fail fast, with what to do, when no Redis answers at `url` (instead of every test waiting out
 * the store's reconnect bound).
 */
export async function assertRedisReachable(url = SHARED_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`no Redis answers at ${url} (${(err as Error).message}): start redis-server, or set CONVEYOR_TEST_REDIS_URL`);
  } finally {
    redis.disconnect();
  }
}

/** Delete every key matching a SCAN MATCH pattern (for example `*<prefix>*`) on the Redis at `url`; answers how many. */
export const deleteKeys = (url: string, match: string): Promise<number> => deleteKeysOf({ url }, match);

// ---- a Redis Cluster ----

/** A private Redis Cluster of masters only. */
export interface RedisCluster {
  /** Seed nodes, as ioredis's Cluster takes them. */
  nodes: { host: string; port: number }[];
  /** Kill every node and remove their folders. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Start a cluster of `masters` redis-server nodes (no replicas, no persistence) on free loopback
 * ports, each in its own folder, join them with `redis-cli --cluster create`, and wait until
 * every node reports `cluster_state:ok`.
 * @example
 * const cluster = await startCluster(3);
 * after(() => cluster.stop());
 * new RedisStore({ nodes: cluster.nodes });
 */
export async function startCluster(masters = 3): Promise<RedisCluster> {
  const root = mkdtempSync(join(tmpdir(), 'conveyor-redis-cluster-'));
  removeAtExit(root);
  const servers: ServerProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(servers.map((s) => kill(s.child, 'SIGKILL')));
    rmSync(root, { recursive: true, force: true });
    forgetFolder(root);
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      // The cluster bus defaults to port + 10000; name it, so it is a port we know is free.
      const busPort = await freePort();
      const dir = join(root, `node-${port}`);
      mkdirSync(dir);
      const server = spawnServer(dir, [
        '--port', String(port),
        '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-port', String(busPort),
        '--appendonly', 'no',
        '--save', '',
      ]);
      servers.push(server);
      ports.push(port);
    }
    await Promise.all(ports.map((port, i) => waitReady(port, servers[i])));
    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    try {
      await run(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    } catch (err) {
      const e = err as { message: string; stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      while (!(await cli(port, 'cluster', 'info')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster node ${port} did not reach cluster_state:ok within 20 s:\n${await cli(port, 'cluster', 'info')}`);
        await sleep(50);
      }
    }
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
