/** The SQLite engine's registry entry: `sqlite:<path>[?synchronous=normal|full]`. */
import { UnknownStoreError } from '../../errors.js';
import type { Engine } from '../engine.js';

/** A parsed `sqlite:` URL. */
export interface SqliteLocation {
  engine: 'sqlite';
  path: string;
  synchronous: 'normal' | 'full' | undefined;
}

export const sqliteEngine: Engine<SqliteLocation> = {
  schemes: ['sqlite'],
  example: 'sqlite:<path> (for example sqlite:./conveyor.db)',
  parseUrl(url) {
    const [rest, query = ''] = url.slice('sqlite:'.length).split('?', 2) as [string, string?];
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (!path) throw new UnknownStoreError(`store URL "${url}" has no path: write sqlite:./conveyor.db or sqlite:/abs/path.db`);
    const synchronous = new URLSearchParams(query).get('synchronous') ?? undefined;
    if (synchronous !== undefined && synchronous !== 'normal' && synchronous !== 'full') {
      throw new UnknownStoreError(`store URL "${url}": synchronous must be normal or full, got "${synchronous}"`);
    }
    return { engine: 'sqlite', path, synchronous };
  },
  describe: (location) => `sqlite:${location.path}`,
  // An in-memory database lives in one process: only its own writes wake its waiters.
  capabilities: (location) => ({ crossProcessWakeups: location.path !== ':memory:', remoteCalls: false, callerTransactions: false }),
  // SQLite migrates a file when it opens it (under its write lock): opening is migrating.
  async migrate(location) {
    const [{ SqliteStore }, { SCHEMA_VERSION }] = await Promise.all([import('./sqlite-store.js'), import('./migrate.js')]);
    await new SqliteStore(location.path, { synchronous: location.synchronous }).close();
    return `sqlite:${location.path}: the schema is at version ${SCHEMA_VERSION}`;
  },
  async open(location, options) {
    const { SqliteStore } = await import('./sqlite-store.js');
    return new SqliteStore(location.path, { ...options, synchronous: location.synchronous });
  },
};
