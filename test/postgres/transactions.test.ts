/**
 * Enqueue inside the caller's own transaction (PostgreSQL): the job exists if and only if the
 * caller commits. With a node-postgres client, a postgres.js transaction and Kysely (through the
 * one-line adapter the README gives): rollback leaves no job and no key held; before the commit
 * no worker sees the job; after it, it runs; chains, groups and chords too; an idempotency key
 * taken inside one transaction makes another transaction's send wait for it, then join it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import postgres from 'postgres';
import { chain, chord, Conveyor, group, InvalidArgumentError, Worker } from '../../src/index.js';
import { waitFor } from '../crash/processes.js';
import { silent } from '../helpers.js';
import { adminSql, dropSchema, SHARED_POSTGRES_URL, sweepSchemas, uniqueSchema } from './servers.js';

describe('enqueue inside the caller\'s transaction (postgres)', () => {
  const admin = adminSql();
  const schemas: string[] = [];
  const apps: Conveyor[] = [];
  const clients = new pg.Pool({ connectionString: SHARED_POSTGRES_URL, max: 4 });
  const pgjs = postgres(SHARED_POSTGRES_URL, { max: 2, onnotice: () => {} });
  before(() => sweepSchemas(admin));
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    for (const s of schemas) await dropSchema(admin, s);
    await Promise.all([admin.end(), clients.end(), pgjs.end()]);
  });

  /** A fresh app on a schema of its own, with tasks `add` and `sum`. */
  function world() {
    const schema = uniqueSchema();
    schemas.push(schema);
    const app = new Conveyor({ store: `${SHARED_POSTGRES_URL}?schema=${schema}`, logger: silent });
    apps.push(app);
    const add = app.task({ name: 'add' }, (_ctx, a: number, b: number) => a + b);
    const sum = app.task({ name: 'sum' }, (_ctx, values: number[]) => values.reduce((x, y) => x + y, 0));
    const drain = async () => {
      const worker = new Worker(app, { logger: silent, workerId: 'w' });
      let n = 0;
      for (let ran = 1; ran > 0; n += ran) ran = await worker.runOnce();
      return n;
    };
    return { app, add, sum, drain, schema };
  }

  it('node-postgres: rollback leaves no job and no key held; before the commit no worker sees the job; after it, it runs', async () => {
    const { app, add, drain } = world();
    await app.store.queueStats(); // open (and migrate) the store outside the caller's transaction
    const client = await clients.connect();
    try {
      await client.query('BEGIN');
      const r = await app.withTransaction(client, () => add.applyAsync([2, 3], { idempotencyKey: 'order-1' }));
      assert.equal(await app.store.jobGet(r.id), null, 'not visible outside the transaction');
      assert.equal(await drain(), 0, 'no worker sees it before the commit');
      await client.query('ROLLBACK');
      assert.equal(await app.store.jobGet(r.id), null, 'rolled back: no job');
      const again = await add.applyAsync([2, 3], { idempotencyKey: 'order-1' });
      assert.notEqual(again.id, r.id, 'and no key held: the next send creates its job');
      await app.revoke(again.id);

      await client.query('BEGIN');
      const committed = await add.applyAsync([4, 5], { tx: client });
      await client.query('COMMIT');
      assert.equal((await committed.info()).state, 'PENDING');
      assert.equal(await drain(), 1);
      assert.equal(await committed.get({ timeout: 5000 }), 9);
    } finally {
      client.release();
    }
  });

  it('postgres.js: a job sent in sql.begin() runs once the transaction commits, and not when it throws', async () => {
    const { app, add, drain } = world();
    await app.store.queueStats();
    const kept = await pgjs.begin((t) => add.applyAsync([1, 1], { tx: t }));
    let dropped: string | undefined;
    await assert.rejects(pgjs.begin(async (t) => {
      dropped = (await add.applyAsync([1, 2], { tx: t })).id;
      throw new Error('the order failed validation');
    }), /the order failed validation/);
    assert.equal(await drain(), 1);
    assert.equal(await kept.get({ timeout: 5000 }), 2);
    assert.equal(await app.store.jobGet(dropped!), null);
  });

  it('Kysely, through the one-line adapter: commit runs the job, rollback drops it', async () => {
    const { app, add, drain } = world();
    await app.store.queueStats();
    const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: SHARED_POSTGRES_URL, max: 2 }) }) });
    try {
      const sent = await db.transaction().execute(async (trx) => {
        const tx = { query: (text: string, values: unknown[]) => trx.executeQuery(CompiledQuery.raw(text, values)) };
        return add.applyAsync([20, 22], { tx });
      });
      let dropped: string | undefined;
      await assert.rejects(db.transaction().execute(async (trx) => {
        const tx = { query: (text: string, values: unknown[]) => trx.executeQuery(CompiledQuery.raw(text, values)) };
        dropped = (await add.applyAsync([0, 0], { tx })).id;
        throw new Error('rolled back');
      }), /rolled back/);
      assert.equal(await drain(), 1);
      assert.equal(await sent.get({ timeout: 5000 }), 42);
      assert.equal(await app.store.jobGet(dropped!), null);
    } finally {
      await db.destroy();
    }
  });

  it('chains, groups and chords sent inside withTransaction exist together after the commit, and not at all after a rollback', async () => {
    const { app, add, sum, drain } = world();
    await app.store.queueStats();
    const client = await clients.connect();
    try {
      const send = () => app.withTransaction(client, async () => [
        await chain(add.s(1, 2), add.s(10)).applyAsync(),
        await group(add.s(1, 1), add.s(2, 2)).applyAsync(),
        await chord([add.s(1, 0), add.s(2, 0)], sum.s()).applyAsync(),
      ] as const);
      await client.query('BEGIN');
      await send();
      await client.query('ROLLBACK');
      assert.deepEqual(await app.store.queueStats(), [], 'rolled back: no job of any of them');
      await client.query('BEGIN');
      const [c, g, ch] = await send();
      await client.query('COMMIT');
      assert.ok((await drain()) >= 7);
      assert.equal(await c.get({ timeout: 5000 }), 13);
      assert.deepEqual(await g.get({ timeout: 5000 }), [2, 4]);
      assert.equal(await ch.get({ timeout: 5000 }), 3);
    } finally {
      client.release();
    }
  });

  it('an idempotency key taken in an open transaction makes another transaction\'s send wait, then join the committed job', async () => {
    const { app, add } = world();
    await app.store.queueStats();
    const [a, b] = [await clients.connect(), await clients.connect()];
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      const first = await add.applyAsync([1, 2], { tx: a, idempotencyKey: 'invoice-7' });
      const { rows: [{ pid }] } = await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      let settled = false;
      const second = add.applyAsync([1, 2], { tx: b, idempotencyKey: 'invoice-7' }).finally(() => (settled = true));
      // b waits on a's key lock: it cannot decide until a commits or rolls back.
      await waitFor("the second send to wait on the first transaction's key lock", async () =>
        (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = $2', [pid, 'Lock'])).rows.length > 0);
      assert.equal(settled, false, 'the second send waits for the first transaction');
      await a.query('COMMIT');
      assert.equal((await second).id, first.id, 'then it joins the committed holder');
      await b.query('COMMIT');
      assert.equal((await app.store.jobsList({ limit: 10 })).length, 1);
    } finally {
      a.release();
      b.release();
    }
  });

  it('a tx that is not a transaction, or a tx given to a store that is not PostgreSQL, is refused and enqueues nothing', async () => {
    const { app, add } = world();
    await assert.rejects(add.applyAsync([1, 2], { tx: {} }), (err: unknown) => err instanceof InvalidArgumentError && /^tx must be your open transaction/.test(err.message));
    assert.deepEqual(await app.store.jobsList({ limit: 10 }), []);
    const sqlite = new Conveyor({ store: 'sqlite::memory:', logger: silent });
    apps.push(sqlite);
    const t = sqlite.task({ name: 'add' }, (_ctx, x: number, y: number) => x + y);
    await assert.rejects(t.applyAsync([1, 2], { tx: await clients.connect().then((c) => (c.release(), c)) }), (err: unknown) =>
      err instanceof InvalidArgumentError && err.message === '{ tx } enqueues inside your database transaction, so it needs the PostgreSQL store; this app\'s store is sqlite::memory:');
  });
});
