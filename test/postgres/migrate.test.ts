/**
 * PostgreSQL migrations: applied once however many processes start at once, the result equal to
 * the checked-in snapshot, and a store told not to migrate refuses a schema that is behind.
 * `CONVEYOR_UPDATE_SNAPSHOT=1` rewrites the snapshot after a new migration.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { spawnSync } from 'node:child_process';
import { Conveyor, Worker } from '../../src/index.js';
import { StoreSchemaError } from '../../src/errors.js';
import { CLI } from '../crash/processes.js';
import { checkVersion, forSchema, migrate, SCHEMA_VERSION } from '../../src/store/postgres/migrate.js';
import { scripts } from '../../src/store/postgres/sql/scripts.gen.js';
import { adminSql, describeSchema, dropSchema, SHARED_POSTGRES_URL, sweepSchemas, uniqueSchema } from './servers.js';

const SNAPSHOT = new URL('../../src/store/postgres/schema.snapshot.txt', import.meta.url);

describe('PostgreSQL migrations', () => {
  const admin = adminSql();
  const schemas: string[] = [];
  const fresh = () => {
    const s = uniqueSchema();
    schemas.push(s);
    return s;
  };
  before(() => sweepSchemas(admin));
  after(async () => {
    for (const s of schemas) await dropSchema(admin, s);
    await admin.end();
  });

  it('eight processes starting at once on a fresh schema apply each migration once', async () => {
    const schema = fresh();
    // Eight pools of their own, as eight workers would have, all released at once.
    const clients = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: SHARED_POSTGRES_URL, max: 1 }));
    try {
      await Promise.all(clients.map((c) => c.query('SELECT 1')));
      const applied = await Promise.all(clients.map((c) => migrate(c, schema)));
      const all = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1);
      assert.deepEqual(applied.filter((a) => a.length > 0), [all], 'one of them applied every migration, the others none');
      const { rows } = await admin.query<{ version: number }>(`SELECT version FROM "${schema}".migrations ORDER BY version`);
      assert.deepEqual(rows.map((r) => r.version), all);
      assert.deepEqual(await migrate(clients[0]!, schema), [], 'a current schema is left as it is');
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('the migrated schema is the checked-in snapshot', async () => {
    const schema = fresh();
    await migrate(admin, schema);
    const actual = await describeSchema(admin, schema);
    if (process.env.CONVEYOR_UPDATE_SNAPSHOT === '1') writeFileSync(SNAPSHOT, actual);
    assert.equal(actual, readFileSync(SNAPSHOT, 'utf8'), 'the schema differs from src/store/postgres/schema.snapshot.txt: if a migration changed it on purpose, rerun with CONVEYOR_UPDATE_SNAPSHOT=1 and commit the file');
  });

  it('conveyor migrate creates the schema once and says so; a store opened with ?migrate=false then works on it', async () => {
    const schema = fresh();
    const url = `${SHARED_POSTGRES_URL}?schema=${schema}`;
    const migrateCli = () => spawnSync(process.execPath, [CLI, 'migrate', '--store', url], { encoding: 'utf8', timeout: 30_000 });
    const where = `postgres://127.0.0.1:5432/test (schema ${schema})`;
    const first = migrateCli();
    assert.deepEqual([first.status, first.stdout, first.stderr], [0, `${where}: applied migrations 1, 2; the schema is at version 2\n`, '']);
    const again = migrateCli();
    assert.deepEqual([again.status, again.stdout], [0, `${where}: the schema is already at version ${SCHEMA_VERSION}; nothing to do\n`]);
    const app = new Conveyor({ store: `${url}&migrate=false` });
    try {
      const r = await app.send('anything', []);
      assert.equal((await r.info()).state, 'PENDING');
    } finally {
      await app.close();
    }
  });

  it('a store opened with ?migrate=false on a schema never migrated fails its first call with the command that fixes it, and creates nothing', async () => {
    const schema = fresh();
    const app = new Conveyor({ store: `${SHARED_POSTGRES_URL}?schema=${schema}&migrate=false` });
    try {
      await assert.rejects(app.send('anything', []), (err: unknown) => err instanceof StoreSchemaError && err.message.startsWith(`schema "${schema}" of postgres://127.0.0.1:5432/test (schema ${schema}) is at version 0, this build needs ${SCHEMA_VERSION}: run \`conveyor migrate`));
    } finally {
      await app.close();
    }
    const { rows } = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    assert.deepEqual(rows, [], 'no schema was created');
  });

  it('a schema at version 1 holding a waiting job is brought to the current version by the worker that opens it, which then runs the job', async () => {
    const schema = fresh();
    // Version 1 as the first release left it, with a job sent by that release.
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`CREATE TABLE "${schema}".migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(forSchema(scripts.migrate_001!, schema));
    await admin.query(`INSERT INTO "${schema}".migrations (version) VALUES (1)`);
    await admin.query(`INSERT INTO "${schema}".jobs (id, task, queue, state, args, priority, run_at, enqueued_at, max_deliveries)
      VALUES ('from-v1', 'add', 'default', 'PENDING', '[2,3]', 0, 0, 0, 5)`);
    const app = new Conveyor({ store: `${SHARED_POSTGRES_URL}?schema=${schema}` });
    app.task({ name: 'add' }, async (_ctx, a: number, b: number) => a + b);
    const worker = new Worker(app, { concurrency: 2, logger: pino({ level: 'silent' }) });
    try {
      worker.start();
      assert.equal(await app.result('from-v1').get({ timeout: 20_000 }), 5);
      const { rows } = await admin.query<{ version: number }>(`SELECT version FROM "${schema}".migrations ORDER BY version`);
      assert.deepEqual(rows.map((r) => r.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await worker.stop();
      await app.close();
    }
  });

  it('without migrating, a schema that is behind is refused with the command that fixes it', async () => {
    const schema = fresh();
    await assert.rejects(checkVersion(admin, schema, 'the test database'), (err: unknown) => {
      assert.ok(err instanceof StoreSchemaError);
      assert.equal(err.code, 'STORE_SCHEMA');
      assert.equal(err.message, `schema "${schema}" of the test database is at version 0, this build needs ${SCHEMA_VERSION}: run \`conveyor migrate --store <url>\` with a role that may create tables, or open the store without migrate: false`);
      return true;
    });
    await migrate(admin, schema);
    await checkVersion(admin, schema, 'the test database');
  });
});
