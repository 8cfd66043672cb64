/**
 * PostgreSQL for tests: the shared server every test uses under a schema of its own (dropped by
 * the test, and — should a test forget or crash — by the next run's sweep of schemas left by
 * processes that are gone).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests share, each under its own schema (CI's: trust auth, database `test`). */
export const SHARED_POSTGRES_URL = process.env.CONVEYOR_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const RUN = `conveyor_test_${process.pid}_${randomBytes(3).toString('hex')}`;
let schemas = 0;

/** A schema name no other test (in this or another process) uses: `conveyor_test_<pid>_<hex>_<n>`. */
export function uniqueSchema(): string {
  return `${RUN}_${++schemas}`;
}

/** Connections to the shared server for a test's own checks; end them with `end()`. */
export function adminSql(): pg.Pool {
  const pool = new pg.Pool({ connectionString: SHARED_POSTGRES_URL, max: 2 });
  pool.on('error', () => {});
  return pool;
}

/** Fail fast, naming the server and how to point the tests elsewhere, when PostgreSQL is not there. */
export async function assertPostgresReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: SHARED_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`the tests need PostgreSQL at ${SHARED_POSTGRES_URL} (${(err as Error).message}): start it, or set CONVEYOR_TEST_POSTGRES_URL`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drop a test's schema on a connection of its own (for tests that keep none open). */
export async function removeSchema(schema: string): Promise<void> {
  const sql = adminSql();
  try {
    await dropSchema(sql, schema);
  } finally {
    await sql.end();
  }
}

/** Drop a test's schema and everything in it. */
export async function dropSchema(sql: pg.Pool, schema: string): Promise<void> {
  await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Drop the schemas of test processes that are gone (a crashed or killed run). */
export async function sweepSchemas(sql: pg.Pool): Promise<void> {
  const { rows } = await sql.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'conveyor\\_test\\_%'`);
  for (const { name } of rows) {
    const pid = Number(/^conveyor_test_(\d+)_/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await dropSchema(sql, name);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The schema's tables, columns, indexes, constraints and functions as stable text (its name written
 * `{schema}`), for comparing a migrated schema with the checked-in snapshot.
 */
export async function describeSchema(sql: pg.Pool, schema: string): Promise<string> {
  const { rows: columns } = await sql.query<{ t: string; c: string; type: string; nullable: string; def: string | null; identity: string | null }>(`
    SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable, column_default AS def, identity_generation AS identity
    FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, [schema]);
  const { rows: indexes } = await sql.query<{ t: string; def: string }>(`
    SELECT tablename AS t, indexdef AS def FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname`, [schema]);
  const { rows: constraints } = await sql.query<{ t: string; name: string; def: string }>(`
    SELECT c.conrelid::regclass::text AS t, c.conname AS name, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 ORDER BY 1, 2`, [schema]);
  const { rows: functions } = await sql.query<{ def: string }>(`
    SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY p.proname`, [schema]);
  const lines: string[] = [];
  let table = '';
  for (const col of columns) {
    if (col.t !== table) lines.push(`table ${(table = col.t)}`);
    lines.push(`  ${col.c} ${col.type}${col.nullable === 'NO' ? ' not null' : ''}${col.def ? ` default ${col.def}` : ''}${col.identity ? ` generated ${col.identity.toLowerCase()} as identity` : ''}`);
  }
  for (const i of indexes) lines.push(`index ${i.def}`);
  for (const c of constraints) lines.push(`constraint ${c.t} ${c.name} ${c.def}`);
  for (const f of functions) lines.push(`function ${f.def.trimEnd()}`);
  return `${lines.join('\n').replaceAll(`"${schema}"`, '{schema}').replaceAll(`${schema}.`, '{schema}.')}\n`;
}
