/** Store selection by URL: `sqlite:<path>` (the default), later `redis://`, `postgres://`. */
import { UnknownStoreError } from '../errors.js';
import type { Store, StoreOptions } from './store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';

/** The store used when neither the app nor `CONVEYOR_STORE` names one. */
export const DEFAULT_STORE_URL = 'sqlite:./conveyor.db';

/** A parsed store URL. */
export type StoreLocation = { engine: 'sqlite'; path: string; synchronous: SqliteStoreOptions['synchronous'] };

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
  throw new UnknownStoreError(
    `store URL "${url}" has ${scheme ? `an unknown scheme "${scheme}:"` : 'no scheme'}: use sqlite:<path> (for example sqlite:./conveyor.db)`,
  );
}

/**
 * Open the store a URL names.
 * @example openStore('sqlite:./conveyor.db') // a file in the working directory
 * @example openStore('sqlite:///var/lib/app/queue.db?synchronous=full')
 */
export function openStore(url: string, options: StoreOptions = {}): Store {
  const location = parseStoreUrl(url);
  return new SqliteStore(location.path, { ...options, synchronous: location.synchronous });
}
