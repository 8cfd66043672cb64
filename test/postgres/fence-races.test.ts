/**
 * The fence of a step write on PostgreSQL holds until the write commits: a delivery whose step
 * INSERT is held up after its token check passed cannot be overtaken by a recovery and the next
 * delivery, which would be told "not recorded" and do the effect again. (Found by `conveyor
 * chaos` on a postgres:// store: a charge asked for twice.) The steps table is locked by hand to
 * hold the INSERT at exactly that point. And a pool acquire that waited behind another one's lock
 * dates its lease from when it got the lock, not from when it began; and a reclaim that read an
 * item as lapsed does not free it once its holder has renewed it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/index.js';
import type { StepOutcome } from '../../src/store/store.js';
import { newJob } from '../conformance/harness.js';
import { waitFor } from '../crash/processes.js';
import { removeSchema, SHARED_POSTGRES_URL, uniqueSchema } from './servers.js';

/**
 * Two connections of the test's own: `admin` holds a lock in its transaction; `watcher`, outside
 * it (a transaction sees one snapshot of pg_stat_activity throughout), counts the statements
 * that wait for a lock and whose text contains `text`.
 */
async function lockSessions(): Promise<{ admin: pg.Client; watcher: pg.Client; waiting: (text: string) => Promise<number>; end: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: SHARED_POSTGRES_URL });
  const watcher = new pg.Client({ connectionString: SHARED_POSTGRES_URL });
  await admin.connect();
  await watcher.connect();
  return {
    admin, watcher,
    waiting: async (text) => (await watcher.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%${text}%`])).rows[0]!.n,
    async end() {
      await admin.query('ROLLBACK').catch(() => {});
      await admin.end();
      await watcher.end();
    },
  };
}

describe('fence races (PostgreSQL)', () => {
  const schema = uniqueSchema();
  after(() => removeSchema(schema));

  it('a step write held up after its token check commits before the next delivery takes the job, which then replays it', async () => {
    let now = Date.now();
    const store = await PostgresStore.open({ url: SHARED_POSTGRES_URL, schema, clock: () => now, description: 'test' });
    const { admin, waiting: waitingOn, end } = await lockSessions();
    /** Statements of this schema waiting for a lock. */
    const waiting = () => waitingOn(`"${schema}"`);
    try {
      const job = newJob();
      await store.jobsEnqueue([job]);
      const [first] = await store.jobsReserve({ queues: [job.queue], workerId: 'w1', limit: 1, leaseMs: 1000 });
      await admin.query('BEGIN');
      await admin.query(`LOCK TABLE "${schema}".steps IN EXCLUSIVE MODE`);
      const put = store.jobStepPut({ id: job.id, token: first!.token, name: 'charge', resultJson: '"ref-1"' });
      await waitFor('delivery 1\'s INSERT to wait, its token check passed', async () => (await waiting()) >= 1);
      // Delivery 1's lease lapses; recovery and delivery 2 follow — as far as the fence lets them:
      // a recovery that meets the locked row skips it (or waits), and delivery 2 waits for it.
      now += 5_000;
      let seen: StepOutcome | undefined;
      const takeOver = async (): Promise<boolean> => {
        await store.jobsRecoverExpired();
        const [second] = await store.jobsReserve({ queues: [job.queue], workerId: 'w2', limit: 1, leaseMs: 1000 });
        if (!second) return false;
        assert.ok(second.token > first!.token);
        seen = await store.jobStepGet({ id: job.id, token: second.token, name: 'charge' });
        return true;
      };
      let through = false;
      const early = takeOver().finally(() => (through = true));
      await waitFor('the take-over to end, or to wait for delivery 1', async () => through || (await waiting()) >= 2);
      await admin.query('COMMIT');
      assert.deepEqual(await put, { ok: true, resultJson: '"ref-1"' }, 'delivery 1 held the lease when it wrote');
      if (!(await early)) assert.equal(await takeOver(), true, 'delivery 2 takes the job once delivery 1\'s write is done');
      assert.deepEqual(seen, { ok: true, resultJson: '"ref-1"' }, 'delivery 2 replays the recorded step instead of doing the effect again');
      assert.deepEqual((await store.jobSteps(job.id)).map((s) => [s.name, s.resultJson, s.token]), [['charge', '"ref-1"', first!.token]]);
    } finally {
      await end();
      await store.close();
    }
  });

  it('a pool acquire that waited for the pool\'s lock dates its lease from when it got it', async () => {
    const store = await PostgresStore.open({ url: SHARED_POSTGRES_URL, schema, description: 'test' });
    const { admin, watcher, waiting, end } = await lockSessions();
    const dbNow = async () => (await watcher.query<{ t: number }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::float8 AS t')).rows[0]!.t;
    try {
      await store.poolAdd({ pool: 'executors', items: ['e1'] });
      // Another transaction holds the pool's lock (as a holder frozen mid-acquire would).
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".pools WHERE name = 'executors' FOR UPDATE`);
      const acquiring = store.poolAcquire({ pool: 'executors', holder: 'h', ttlMs: 60_000 });
      await waitFor('the acquire to wait for the pool\'s lock', async () => (await waiting(`"${schema}".pools`)) >= 1);
      const waited = await dbNow();
      await waitFor('the database\'s clock to move on', async () => (await dbNow()) > waited + 5);
      const lockedAfter = await dbNow();
      await admin.query('COMMIT');
      const lease = await acquiring;
      assert.ok(lease, 'the free item was acquired');
      assert.ok(lease.expiresAt - 60_000 >= lockedAfter, `the lease starts at ${lease.expiresAt - 60_000}, before ${lockedAfter}, when the acquire was still waiting for the lock`);
    } finally {
      await end();
      await store.close();
    }
  });

  it('a reclaim that read a lapsed item does not free it after its holder renewed it', async () => {
    let now = Date.now();
    const store = await PostgresStore.open({ url: SHARED_POSTGRES_URL, schema, clock: () => now, description: 'test' });
    const { admin, waiting, end } = await lockSessions();
    try {
      await store.poolAdd({ pool: 'gpus', items: ['g1'] });
      const first = await store.poolAcquire({ pool: 'gpus', holder: 'h1', ttlMs: 1000 });
      now += 5_000; // h1's lease lapsed, not reclaimed yet
      // Hold the pool's row so the reclaim stops after it read the lapsed item, before it frees it.
      await admin.query('BEGIN');
      await admin.query(`SELECT 1 FROM "${schema}".pools WHERE name = 'gpus' FOR UPDATE`);
      const reclaiming = store.poolsReclaimExpired();
      await waitFor('the reclaim to wait for the pool\'s lock', async () => (await waiting(`"${schema}".pools`)) >= 1);
      // A lapsed lease not yet reclaimed still renews (as on every engine).
      assert.equal(await store.poolRenew({ pool: 'gpus', item: 'g1', token: first!.token, ttlMs: 1000 }), now + 1000);
      await admin.query('COMMIT');
      assert.equal(await reclaiming, 0, 'nothing was reclaimed');
      assert.deepEqual((await store.poolItems('gpus')).map((i) => [i.item, i.holder, i.token]), [['g1', 'h1', first!.token]]);
      assert.equal(await store.poolAcquire({ pool: 'gpus', holder: 'h2', ttlMs: 1000 }), null, 'no second holder');
    } finally {
      await end();
      await store.close();
    }
  });
});
