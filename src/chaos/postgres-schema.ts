/**
 * Dropping a namespace of a PostgreSQL database (the schema `conveyor chaos` ran in on a user's
 * database): DROP SCHEMA ... CASCADE, on a connection of its own.
 */
import pg from 'pg';

/** How long the drop may wait for a lock still held by a session of the run that has not ended yet. */
const LOCK_TIMEOUT_MS = 30_000;

/**
 * Drop `schema` and everything in it from the database at `url` (a driver URL: no store
 * parameters); nothing when it is not there.
 */
export async function dropSchema(url: string, schema: string): Promise<void> {
  // Quoted as an identifier, so a name is only ever a name.
  const name = `"${schema.replaceAll('"', '""')}"`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'conveyor chaos' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`SET lock_timeout = ${LOCK_TIMEOUT_MS}`);
    await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  } finally {
    await client.end().catch(() => {});
  }
}
