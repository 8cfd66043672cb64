/**
 * The fence of a step write on PostgreSQL holds until the write commits: a delivery whose step
 * INSERT is held up after its token check passed cannot be overtaken by a recovery and the next
 * delivery, which would be told "not recorded" and do the effect again. (Found by `conveyor
 * chaos` on a postgres:// store: a charge asked for twice.) The steps table is locked by hand to
 * hold the INSERT at exactly that point.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/index.js';
import type { StepOutcome } from '../../src/store/store.js';
import { newJob } from '../conformance/harness.js';
import { waitFor } from '../crash/processes.js';
import { removeSchema, SHARED_POSTGRES_URL, uniqueSchema } from './servers.js';

describe('fence races (PostgreSQL)', () => {
  const schema = uniqueSchema();
  after(() => removeSchema(schema));

  it('a step write held up after its token check commits before the next delivery takes the job, which then replays it', async () => {
    let now = Date.now();
    const store = await PostgresStore.open({ url: SHARED_POSTGRES_URL, schema, clock: () => now, description: 'test' });
    const admin = new pg.Client({ connectionString: SHARED_POSTGRES_URL });
    // Outside admin's transaction, which would see one snapshot of pg_stat_activity throughout.
    const watcher = new pg.Client({ connectionString: SHARED_POSTGRES_URL });
    await admin.connect();
    await watcher.connect();
    /** Statements of this schema waiting for a lock. */
    const waiting = async () => (await watcher.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`%"${schema}"%`])).rows[0]!.n;
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
      await admin.query('ROLLBACK').catch(() => {});
      await admin.end();
      await watcher.end();
      await store.close();
    }
  });
});
