/**
 * The PostgreSQL engine's registry entry:
 * `postgres://[user[:pass]@]host[:port]/db[?schema=conveyor&migrate=false&max=10]` (or `postgresql://`).
 * `schema` names the schema of the store's tables (lower-case letters, digits and _); `migrate=false`
 * opens a schema made by `conveyor migrate` without trying to change it; `max` is the pool size.
 * Every other parameter goes to the driver as it is (sslmode, application_name...).
 */
import { UnknownStoreError } from '../../errors.js';
import type { Engine } from '../engine.js';

/** A parsed `postgres://` URL. */
export interface PostgresLocation {
  engine: 'postgres';
  /** The URL for the driver: the store's own parameters taken out. */
  url: string;
  schema: string;
  migrate: boolean;
  maxConnections: number | undefined;
}

/** The schema when the URL names none. */
export const DEFAULT_SCHEMA = 'conveyor';

export const postgresEngine: Engine<PostgresLocation> = {
  schemes: ['postgres', 'postgresql'],
  example: 'postgres://user@host:port/db?schema=conveyor',
  parseUrl(url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UnknownStoreError(`store URL "${url}" is not a URL: write postgres://user@host:5432/dbname?schema=conveyor`);
    }
    if (!parsed.pathname || parsed.pathname === '/') throw new UnknownStoreError(`store URL "${url}" names no database: write postgres://user@host:5432/dbname`);
    const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new UnknownStoreError(`store URL "${url}": schema must be a lower-case identifier (letters, digits and _, at most 63, not starting with a digit), got "${schema}"`);
    }
    const migrateParam = parsed.searchParams.get('migrate');
    if (migrateParam !== null && migrateParam !== 'true' && migrateParam !== 'false') {
      throw new UnknownStoreError(`store URL "${url}": migrate must be true or false, got "${migrateParam}"`);
    }
    const maxParam = parsed.searchParams.get('max');
    const maxConnections = maxParam === null ? undefined : Number(maxParam);
    if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections > 0)) {
      throw new UnknownStoreError(`store URL "${url}": max must be a positive integer (connections), got "${maxParam}"`);
    }
    for (const own of ['schema', 'migrate', 'max']) parsed.searchParams.delete(own);
    return { engine: 'postgres', url: parsed.toString(), schema, migrate: migrateParam !== 'false', maxConnections };
  },
  describe: (location) => {
    const u = new URL(location.url);
    return `postgres://${u.host}${u.pathname} (schema ${location.schema})`;
  },
  capabilities: () => ({ crossProcessWakeups: true, remoteCalls: true, callerTransactions: true }),
  async migrate(location) {
    const [{ default: pg }, { migrate, SCHEMA_VERSION }, { unreachable }] = await Promise.all([import('pg'), import('./migrate.js'), import('./unavailable.js')]);
    const pool = new pg.Pool({ connectionString: location.url, max: 1, application_name: 'conveyor migrate' });
    pool.on('error', () => {});
    const where = postgresEngine.describe(location);
    try {
      const applied = await migrate(pool, location.schema).catch((err: unknown) => {
        throw unreachable(err, where) ?? err;
      });
      return applied.length
        ? `${where}: applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')}; the schema is at version ${SCHEMA_VERSION}`
        : `${where}: the schema is already at version ${SCHEMA_VERSION}; nothing to do`;
    } finally {
      await pool.end();
    }
  },
  async open(location, options) {
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.open({
      ...options, url: location.url, schema: location.schema, migrate: location.migrate,
      maxConnections: location.maxConnections, description: postgresEngine.describe(location),
    });
  },
};
