/**
 * Where `conveyor chaos` runs: an isolated namespace of the store it is given — its own SQLite
 * file, its own Redis key prefix — or a private store it starts itself (`sqlite`, `redis`: a
 * redis-server with an fsynced append-only file on a free port, which the `store-restart` fault
 * can crash and start again). Nothing of the user's data is read or written.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { parseStoreUrl } from '../store/open.js';
import { deleteKeys } from './redis-keys.js';
import { startRedis, type RedisServer } from './redis-server.js';

/** The store a run uses. */
export interface StoreTarget {
  /** The URL its workers and its checker open. */
  url: string;
  engine: 'sqlite' | 'redis';
  /** Shown in the report, without credentials. */
  description: string;
  /** The private redis-server the run started, when it did (the store-restart fault needs one). */
  server?: RedisServer;
  /** The run's folder (its SQLite file, the ledger). */
  dir: string;
  /** Delete the run's keys or files, and stop a private server. */
  remove(): Promise<void>;
}

/**
 * The store for a run: `sqlite` (a private file, the default), `sqlite:<path>` (a fresh file in
 * that path's folder), `redis` (a private redis-server), or a `redis://` / `rediss://` URL (a key
 * prefix of the run's own on that Redis or Cluster).
 */
export async function openTarget(store: string): Promise<StoreTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-chaos-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const prefix = `conveyor-chaos-${randomBytes(4).toString('hex')}`;
  if (store === 'sqlite' || store.startsWith('sqlite:')) {
    const location = store === 'sqlite' ? undefined : parseStoreUrl(store);
    const folder = location?.engine === 'sqlite' ? dirname(resolve(location.path)) : dir;
    const file = join(folder, `${prefix}.db`);
    const url = `sqlite:${file}`;
    return {
      url, engine: 'sqlite', description: url, dir,
      async remove() {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
        removeDir();
      },
    };
  }
  if (store === 'redis') {
    const server = await startRedis({ appendonly: true, appendfsync: 'always' });
    const url = `${server.url}/0?prefix=${prefix}`;
    return { url, engine: 'redis', description: `a private redis-server on port ${server.port} (AOF, appendfsync always)`, server, dir, async remove() {
      await server.stop();
      removeDir();
    } };
  }
  const location = parseStoreUrl(store);
  if (location.engine !== 'redis') throw new InvalidArgumentError(`--store ${store}: chaos runs on sqlite, redis, or a sqlite: or redis:// URL`);
  const url = withPrefix(store, prefix);
  return {
    url, engine: 'redis', description: `${store.replace(/\/\/[^@/]*@/, '//').split('?')[0]} under the key prefix ${prefix}`, dir,
    async remove() {
      await deleteKeys(location, `${prefix}:*`);
      removeDir();
    },
  };
}

/** `url` with its `prefix` parameter set (replaced if present). */
function withPrefix(url: string, prefix: string): string {
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set('prefix', prefix);
  return `${base}?${params.toString()}`;
}
