/**
 * Where `conveyor chaos` runs: an isolated namespace of the store it is given — its own SQLite
 * file, its own Redis key prefix, its own PostgreSQL schema — or a private server it starts
 * itself (`redis`: a redis-server with an fsynced append-only file; `postgres`: a PostgreSQL
 * with fsync on, each on a free loopback port), which the `store-restart` fault can crash and
 * start again. Nothing of the user's data is read or written.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { parseStoreUrl } from '../store/open.js';
import { dropSchema } from './postgres-schema.js';
import { startPostgres } from './postgres-server.js';
import { deleteKeys } from './redis-keys.js';
import { startRedis } from './redis-server.js';

/** A server the run started itself, which the `store-restart` fault crashes and starts again. */
export interface PrivateServer {
  /** Crash it (SIGKILL) and start it again on the same port and folder; resolves once it answers. */
  restart(signal: 'SIGKILL'): Promise<void>;
}

/** The store a run uses. */
export interface StoreTarget {
  /** The URL its workers and its checker open. */
  url: string;
  engine: 'sqlite' | 'redis' | 'postgres';
  /** Shown in the report, without credentials. */
  description: string;
  /** The private server the run started, when it did (the store-restart fault needs one). */
  server?: PrivateServer;
  /** The run's folder (its SQLite file, the ledger). */
  dir: string;
  /** Delete the run's keys, schema or files, and stop a private server. */
  remove(): Promise<void>;
}

/** What every kind of target is made from: the run's folder and the name of its namespace. */
interface Run {
  dir: string;
  /** `<hex>`: the namespace is `conveyor-chaos-<hex>` (a file, a key prefix) or `conveyor_chaos_<hex>` (a schema). */
  id: string;
}

/**
 * The store for a run: `sqlite` (a private file, the default), `sqlite:<path>` (a fresh file in
 * that path's folder), `redis` (a private redis-server), a `redis://` / `rediss://` URL (a key
 * prefix of the run's own on that Redis or Cluster), `postgres` (a private PostgreSQL server) or
 * a `postgres://` / `postgresql://` URL (a schema of the run's own on that database).
 */
export async function openTarget(store: string): Promise<StoreTarget> {
  const run: Run = { dir: mkdtempSync(join(tmpdir(), 'conveyor-chaos-')), id: randomBytes(4).toString('hex') };
  try {
    if (store === 'sqlite' || store.startsWith('sqlite:')) return sqliteTarget(run, store);
    if (store === 'redis') return await privateRedis(run);
    if (store === 'postgres') return await privatePostgres(run);
    const location = parseStoreUrl(store);
    if (location.engine === 'redis') return redisPrefix(run, store, location);
    if (location.engine === 'postgres') return postgresSchema(run, store, location.url);
    throw new InvalidArgumentError(`--store ${store}: chaos runs on sqlite, redis, postgres, or a sqlite:, redis:// or postgres:// URL`);
  } catch (err) {
    removeDir(run);
    throw err;
  }
}

function removeDir(run: Run): void {
  rmSync(run.dir, { recursive: true, force: true });
}

function sqliteTarget(run: Run, store: string): StoreTarget {
  const location = store === 'sqlite' ? undefined : parseStoreUrl(store);
  const folder = location?.engine === 'sqlite' ? dirname(resolve(location.path)) : run.dir;
  const file = join(folder, `conveyor-chaos-${run.id}.db`);
  const url = `sqlite:${file}`;
  return {
    url, engine: 'sqlite', description: url, dir: run.dir,
    async remove() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      removeDir(run);
    },
  };
}

async function privateRedis(run: Run): Promise<StoreTarget> {
  const server = await startRedis({ appendonly: true, appendfsync: 'always' });
  return {
    url: `${server.url}/0?prefix=conveyor-chaos-${run.id}`, engine: 'redis',
    description: `a private redis-server on port ${server.port} (AOF, appendfsync always)`, server, dir: run.dir,
    async remove() {
      await server.stop();
      removeDir(run);
    },
  };
}

function redisPrefix(run: Run, store: string, location: Parameters<typeof deleteKeys>[0]): StoreTarget {
  const prefix = `conveyor-chaos-${run.id}`;
  return {
    url: withParams(store, { prefix }), engine: 'redis', description: `${withoutSecrets(store)} under the key prefix ${prefix}`, dir: run.dir,
    async remove() {
      try {
        await deleteKeys(location, `${prefix}:*`);
      } finally {
        removeDir(run);
      }
    },
  };
}

async function privatePostgres(run: Run): Promise<StoreTarget> {
  const server = await startPostgres();
  return {
    url: `${server.url}?schema=conveyor_chaos_${run.id}`, engine: 'postgres',
    description: `a private PostgreSQL on port ${server.port} (fsync on)`, server, dir: run.dir,
    async remove() {
      await server.stop();
      removeDir(run);
    },
  };
}

/** `driverUrl`: the database's URL without the store's own parameters (as the engine parses it). */
function postgresSchema(run: Run, store: string, driverUrl: string): StoreTarget {
  const schema = `conveyor_chaos_${run.id}`;
  return {
    // The run's schema is new: it must be created, whatever `migrate` the URL says.
    url: withParams(store, { schema, migrate: null }), engine: 'postgres', description: `${withoutSecrets(store)} in the schema ${schema}`, dir: run.dir,
    async remove() {
      try {
        await dropSchema(driverUrl, schema);
      } finally {
        removeDir(run);
      }
    },
  };
}

/** `url` with each of `params` set (replacing what it had), or taken out when null. */
function withParams(url: string, params: Record<string, string | null>): string {
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const search = new URLSearchParams(query);
  for (const [name, value] of Object.entries(params)) {
    if (value === null) search.delete(name);
    else search.set(name, value);
  }
  return `${base}?${search.toString()}`;
}

/** A store URL for the report: no user or password, no parameters. */
function withoutSecrets(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//').split('?')[0]!;
}
