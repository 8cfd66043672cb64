/**
 * Deterministic crash recovery: build the broken state by hand (a running job whose worker is
 * gone and whose lease has passed), run the worker once, and check what it did.
 */
import assert from 'node:assert/strict';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { Conveyor, Worker } from '../../src/index.js';
import { openStore } from '../../src/store/open.js';
import { scratch, STORES, type Scratch, type StoreKind } from './processes.js';

/** A job's fields as a worker that died holding it leaves them, written by hand in each engine's own terms. */
interface Crash {
  id: string;
  deliveries: number;
  startedAt: number;
  leaseExpiresAt: number;
}

/** How to write the broken state, per engine: raw SQL (SQLite, PostgreSQL), raw Redis commands. */
const crashers: Record<StoreKind['name'], (storeUrl: string, crash: Crash) => Promise<void>> = {
  sqlite: async (storeUrl, c) => {
    const db = new Database(storeUrl.slice('sqlite:'.length));
    db.prepare(`UPDATE conveyor_jobs SET state = 'STARTED', token = token + 1, deliveries = ?, worker = 'dead-worker', started_at = ?, lease_expires_at = ? WHERE id = ?`)
      .run(c.deliveries, c.startedAt, c.leaseExpiresAt, c.id);
    db.close();
  },
  // The key layout is the one at the top of src/store/redis/lua/include/lib.lua; these jobs are
  // in the `default` queue and due, so they sit in its `ready` set.
  redis: async (storeUrl, c) => {
    const url = new URL(storeUrl);
    const base = `${url.searchParams.get('prefix')}:{default}:`;
    url.search = '';
    const redis = new Redis(url.toString());
    try {
      const key = `${base}job:${c.id}`;
      const [runAt, seq] = await redis.hmget(key, 'r', 'sq');
      const replies = await redis.multi()
        .zrem(`${base}ready`, `${runAt!.padStart(15, '0')}:${seq!.padStart(15, '0')}:${c.id}`)
        .hincrby(key, 'tk', 1)
        .hset(key, { s: 'STARTED', d: c.deliveries, w: 'dead-worker', st: c.startedAt, l: c.leaseExpiresAt })
        .zadd(`${base}leased`, c.leaseExpiresAt, c.id)
        .hincrby(`${base}counts`, 'PENDING', -1)
        .hincrby(`${base}counts`, 'STARTED', 1)
        .exec();
      // Fail loudly, rather than build some other state, if the layout has moved on.
      if (replies?.[0]?.[1] !== 1) throw new Error(`job ${c.id} was not in ${base}ready: has the key layout in lib.lua changed?`);
    } finally {
      redis.disconnect();
    }
  },
  // The tables of src/store/postgres/sql/migrate_001.sql, in the URL's schema.
  postgres: async (storeUrl, c) => {
    const url = new URL(storeUrl);
    const schema = url.searchParams.get('schema')!;
    url.search = '';
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rowCount } = await client.query(`UPDATE "${schema}".jobs SET state = 'STARTED', token = token + 1, deliveries = $1, worker = 'dead-worker', started_at = $2, lease_expires_at = $3 WHERE id = $4`,
        [c.deliveries, c.startedAt, c.leaseExpiresAt, c.id]);
      if (rowCount !== 1) throw new Error(`job ${c.id} was not in "${schema}".jobs: has migrate_001.sql changed?`);
    } finally {
      await client.end();
    }
  },
};

for (const store of STORES) describe(`recovery of a dead worker's job (${store.name})`, () => {
  let s: Scratch;
  const clock = { now: 1_700_000_000_000 };
  let app: Conveyor;
  let ran: string[];

  before(() => store.ready());
  beforeEach(() => {
    s = scratch(store);
    app = new Conveyor({ store: openStore(s.storeUrl, { clock: () => clock.now }), clock: () => clock.now, maxDeliveries: 3 });
    ran = [];
    app.task({ name: 'work' }, async (ctx, n: number) => {
      ran.push(`${ctx.id}@${ctx.fencingToken}`);
      return n * 2;
    });
  });
  afterEach(async () => {
    await app.close();
    await s.remove();
  });

  /** Mark a job as held by a worker that died, by hand, as a crash would leave it. */
  function crashWhileRunning(id: string, deliveries: number, leaseExpiresAt: number): Promise<void> {
    return crashers[store.name](s.storeUrl, { id, deliveries, startedAt: clock.now - 60_000, leaseExpiresAt });
  }

  const worker = () => new Worker(app, { lease: '30s', logger: pino({ level: 'silent' }) });

  it('a lapsed lease returns the job to its queue and the next pass runs it with a new token', async () => {
    const r = await app.send('work', [21]);
    await crashWhileRunning(r.id, 1, clock.now - 1);
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await r.get({ timeout: 1000 }), 42);
    const info = await r.info();
    assert.equal(info.fencingToken, 2);
    assert.equal(info.deliveries, 2);
    assert.deepEqual(ran, [`${r.id}@2`]);
  });

  it('a lease that has not lapsed is left alone: the job is not run twice', async () => {
    const r = await app.send('work', [1]);
    await crashWhileRunning(r.id, 1, clock.now + 10_000);
    assert.equal(await worker().runOnce(), 0);
    assert.equal(await r.state(), 'STARTED');
    clock.now += 10_001;
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await r.state(), 'SUCCESS');
    assert.equal(ran.length, 1);
  });

  it('a job whose deliveries ran out fails with WorkerLostError instead of running again', async () => {
    const r = await app.send('work', [1]);
    await crashWhileRunning(r.id, 3, clock.now - 1);
    assert.equal(await worker().runOnce(), 0);
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'WorkerLostError');
    assert.deepEqual(ran, []);
    // The dead-letter retry gives it a fresh budget.
    assert.equal(await app.retry(r.id), 'retried');
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await r.state(), 'SUCCESS');
  });
});
