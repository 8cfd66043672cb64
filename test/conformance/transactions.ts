/**
 * Conformance: `jobCompleteInTransaction` — a handler's database writes and its job's success in
 * one transaction (`ctx.transaction`), fenced by the delivery's token. Engines without
 * `capabilities.callerTransactions` refuse it with one exact error and run nothing.
 *
 * The work writes a row to an *effects* table beside the store (the suite's `database` option
 * gives a connection of its own to read it): the row exists exactly when the job's success does.
 */
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import type { ParentInfo, TransactionClient } from '../../src/store/store.js';
import { HOUR, LEASE_MS, T0, callback, complete, counters, firedRecord, lost, type Harness, type TestFn } from './harness.js';

/** Make this test's effects table; answers its name and how to read the job ids written to it. */
async function effectsTable(h: Harness): Promise<{ insert(tx: TransactionClient, id: string): Promise<void>; ids(): Promise<string[]> }> {
  const db = h.database;
  if (!db) throw new Error('an engine with callerTransactions must give the suite a `database` connection');
  const table = db.table('effects');
  await db.query(`CREATE TABLE ${table} (job_id text NOT NULL)`);
  return {
    insert: async (tx, id) => void (await tx.query(`INSERT INTO ${table} (job_id) VALUES ($1)`, [id])),
    ids: async () => (await db.query(`SELECT job_id FROM ${table} ORDER BY job_id`)).map((r) => r.job_id as string),
  };
}

/**
 * The group for an engine: `capable` (it gave the suite a `database`) registers the tests of the
 * transaction; otherwise the refusal. Each checks the engine's capability says the same.
 */
export function transactionTests(test: TestFn, capable: boolean): void {
  if (!capable) {
    test('transactions: an engine without caller transactions refuses, naming the store, and runs nothing', async (h) => {
      assert.equal(h.store.capabilities.callerTransactions, false);
      const [job] = await h.enqueue({});
      const r = await h.reserveOne();
      let ran = false;
      await assert.rejects(
        h.store.jobCompleteInTransaction({ id: job.id, token: r.token, resultTtlMs: HOUR }, async () => {
          ran = true;
          return { value: 1, resultJson: '1' };
        }),
        (err: unknown) => err instanceof InvalidArgumentError && err.message === `ctx.transaction commits your database writes together with the job's success, so it needs the PostgreSQL store; this worker's store is ${h.store.description} (use ctx.step with an idempotency key instead)`,
      );
      assert.equal(ran, false);
      assert.equal((await h.get(job.id)).state, 'STARTED');
    });
    return;
  }

  test('transactions: the work commits with the job: its row, SUCCESS with its result, the callbacks fired', async (h) => {
    assert.equal(h.store.capabilities.callerTransactions, true);
    const effects = await effectsTable(h);
    const onSuccess = callback('success');
    const [job] = await h.enqueue({ task: 'test.parent', callbacks: [onSuccess, callback('failure')] });
    const r = await h.reserveOne();
    h.advance(250);
    const answer = await h.store.jobCompleteInTransaction({ id: job.id, token: r.token, resultTtlMs: HOUR }, async (tx) => {
      await effects.insert(tx, job.id);
      return { value: { invoiced: 7 }, resultJson: '{"invoiced":7}' };
    });
    assert.deepEqual(answer, { ok: true, value: { invoiced: 7 } });
    assert.deepEqual(await effects.ids(), [job.id]);
    const record = await h.get(job.id);
    assert.deepEqual([record.state, record.resultJson, record.finishedAt, record.leaseExpiresAt, record.token], ['SUCCESS', '{"invoiced":7}', T0 + 250, null, r.token]);
    const info: ParentInfo = { id: job.id, task: 'test.parent', state: 'SUCCESS', resultJson: '{"invoiced":7}', error: null };
    assert.deepEqual(await h.store.jobGet(onSuccess.job.id), firedRecord(onSuccess.job, T0 + 250, info));
    // The job is final: the worker's own settlement would be refused, and the lease cannot be renewed.
    assert.deepEqual(await h.settle(complete(r)), lost(job.id, 'final'));
    assert.deepEqual(await h.store.jobsRenew({ leases: [r], leaseMs: LEASE_MS }), [lost(job.id, 'final')]);
    assert.deepEqual(await h.counters(), counters());
  });

  test('transactions: work that throws rolls back and is the answer; the lease is still held', async (h) => {
    assert.equal(h.store.capabilities.callerTransactions, true);
    const effects = await effectsTable(h);
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    const boom = new Error('card declined');
    await assert.rejects(h.store.jobCompleteInTransaction({ id: job.id, token: r.token, resultTtlMs: HOUR }, async (tx) => {
      await effects.insert(tx, job.id);
      throw boom;
    }), (err) => err === boom);
    assert.deepEqual(await effects.ids(), []);
    assert.equal((await h.get(job.id)).state, 'STARTED');
    assert.deepEqual(await h.settle(complete(r, '"later"')), { id: job.id, ok: true });
  });

  test('transactions: a delivery that lost its lease before is refused as stale, and the work never runs', async (h) => {
    assert.equal(h.store.capabilities.callerTransactions, true);
    const [job] = await h.enqueue({ maxDeliveries: 5 });
    const first = await h.reserveOne();
    await h.loseLeases();
    await h.reserveOne();
    let ran = false;
    const answer = await h.store.jobCompleteInTransaction({ id: job.id, token: first.token, resultTtlMs: HOUR }, async () => {
      ran = true;
      return { value: null, resultJson: null };
    });
    assert.deepEqual(answer, { ok: false, reason: 'stale', terminate: false });
    assert.equal(ran, false);
    assert.equal((await h.get(job.id)).state, 'STARTED');
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 1 }));
  });

  test('transactions: a lease lost while the work runs rolls the work back: stale, no row, the new delivery unharmed', async (h) => {
    assert.equal(h.store.capabilities.callerTransactions, true);
    const effects = await effectsTable(h);
    const [job] = await h.enqueue({ maxDeliveries: 5 });
    const first = await h.reserveOne();
    let second: Awaited<ReturnType<Harness['reserveOne']>> | undefined;
    const answer = await h.store.jobCompleteInTransaction({ id: job.id, token: first.token, resultTtlMs: HOUR }, async (tx) => {
      await effects.insert(tx, job.id);
      // Another worker recovers the lapsed lease and takes the job while this transaction is open.
      await h.loseLeases();
      second = await h.reserveOne();
      return { value: 'late', resultJson: '"late"' };
    });
    assert.deepEqual(answer, { ok: false, reason: 'stale', terminate: false });
    assert.deepEqual(await effects.ids(), []);
    const record = await h.get(job.id);
    assert.deepEqual([record.state, record.token], ['STARTED', second!.token]);
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 1 }));
    assert.deepEqual(await h.settle(complete(second!, '"second"')), { id: job.id, ok: true });
  });

  test('transactions: a revoke while the work runs rolls it back and answers revoked, with terminate as asked', async (h) => {
    assert.equal(h.store.capabilities.callerTransactions, true);
    const effects = await effectsTable(h);
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    const answer = await h.store.jobCompleteInTransaction({ id: job.id, token: r.token, resultTtlMs: HOUR }, async (tx) => {
      await effects.insert(tx, job.id);
      assert.equal(await h.store.jobRevoke({ id: job.id, terminate: true }), 'revoked');
      return { value: 1, resultJson: '1' };
    });
    assert.deepEqual(answer, { ok: false, reason: 'revoked', terminate: true });
    assert.deepEqual(await effects.ids(), []);
    assert.equal((await h.get(job.id)).state, 'REVOKED');
  });
}
