/**
 * Schema migrations for PostgreSQL: the numbered `migrate_NNN.sql` files, applied in order in one
 * transaction under an advisory lock on the schema's name, so that workers starting at once
 * migrate once and the others find the work done. `<schema>.migrations` records each version.
 * A locked-down database (no DDL for the app's role) runs `conveyor migrate` once instead, and
 * the store opens with `migrate: false`, which only checks the version.
 */
import type { Pool, PoolClient } from 'pg';
import { StoreSchemaError } from '../../errors.js';
import { scripts } from './sql/scripts.gen.js';

const MIGRATIONS = Object.entries(scripts)
  .filter(([name]) => name.startsWith('migrate_'))
  .map(([name, text]) => ({ version: Number(name.slice('migrate_'.length)), text }))
  .sort((a, b) => a.version - b.version);

/** The schema version this build expects. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** A schema name as SQL: quoted (names are checked to be lower-case identifiers when parsed). */
export const quoted = (schema: string) => `"${schema}"`;

/** The migration file's text for `schema`. */
export const forSchema = (text: string, schema: string) => text.replaceAll('{schema}', quoted(schema));

/** The schema's version: the last migration applied, 0 for none (or no schema). */
async function versionOf(db: Pool | PoolClient, schema: string): Promise<number> {
  const { rows: [row] } = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${quoted(schema)}.migrations`]);
  if (!row?.t) return 0;
  const { rows: [v] } = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoted(schema)}.migrations`);
  return v?.v ?? 0;
}

/** Apply the migrations `schema` lacks; answers the versions applied (none when it was current). */
export async function migrate(pool: Pool, schema: string): Promise<number[]> {
  if ((await versionOf(pool, schema)) >= SCHEMA_VERSION) return [];
  const client = await pool.connect();
  const lost = () => {}; // a connection lost between statements: the next one fails (see PostgresStore)
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`conveyor migrate ${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoted(schema)}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const current = await versionOf(client, schema);
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await client.query(forSchema(m.text, schema));
      await client.query(`INSERT INTO ${quoted(schema)}.migrations (version) VALUES ($1)`, [m.version]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.off('error', lost);
    client.release();
  }
}

/**
 * For `migrate: false`: refuse a schema that is not at this build's version, saying what to run.
 * @throws StoreSchemaError naming the schema, its version and the fix.
 */
export async function checkVersion(pool: Pool, schema: string, where: string): Promise<void> {
  const version = await versionOf(pool, schema);
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new StoreSchemaError(`schema "${schema}" of ${where} is at version ${version}, newer than this build of Conveyor knows (${SCHEMA_VERSION}): upgrade conveyor`);
  }
  throw new StoreSchemaError(
    `schema "${schema}" of ${where} is at version ${version}, this build needs ${SCHEMA_VERSION}: run \`conveyor migrate --store <url>\` with a role that may create tables, or open the store without migrate: false`,
  );
}
