/**
 * Conformance: bad input is refused whole, before anything is written. For each family of
 * transitions (enqueue, settle, steps, progress, pools, revoke, registry), a call carrying one
 * bad item among good ones throws InvalidArgumentError naming the item by its path, and the
 * store afterwards is exactly as before: the good items were not written either, nothing is
 * counted, and the same call without the bad item then works.
 *
 * The classic bad item is text cut in the middle of a character (a lone UTF-16 surrogate), which
 * has no UTF-8 form and which Redis' JSON decoder refuses: on an engine that checked too late,
 * the first jobs of a batch would be written and the rest not (Redis does not roll back).
 */
import assert from 'node:assert/strict';
import type { NewJob } from '../../src/store/store.js';
import { callback, callbackJob, complete, counters, fail, HOUR, jobCount, LEASE_MS, newJob, pendingRecord, T0, type TestFn } from './harness.js';

/** Half of 🌍: a high surrogate with nothing after it. */
const CUT = 'cut \ud83c';
const LONE = `holds a lone UTF-16 surrogate at index ${CUT.length - 1} (text cut in the middle of a character, such as half an emoji), which has no UTF-8 form: pass well-formed text (text.toWellFormed() replaces it with U+FFFD)`;

/** Assert that `call` is refused with InvalidArgumentError and exactly `message`. */
async function refused(call: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(call, (err: Error & { code?: string }) => {
    assert.equal(err.name, 'InvalidArgumentError', err.message);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.message, message);
    return true;
  });
}

/** Bad jobs, each with the message that refuses it as the third job of a batch. */
const BAD_JOBS: [string, Partial<NewJob>, string][] = [
  ['a lone surrogate in an idempotency key', { idempotency: { key: CUT, ttlMs: null } }, `jobs[2].idempotency.key ${LONE}`],
  ['a lone surrogate in an id', { id: CUT }, `jobs[2].id ${LONE}`],
  ['a lone surrogate in a task name', { task: CUT }, `jobs[2].task ${LONE}`],
  ['a lone surrogate in a queue name', { queue: CUT }, `jobs[2].queue ${LONE}`],
  ['a brace in a queue name', { queue: 'mail}' }, 'jobs[2].queue "mail}" holds "{" or "}", which queue names may not (they are Redis Cluster hash tags): use letters, digits and . _ : -'],
  ['an empty id', { id: '' }, 'jobs[2].id must be a non-empty string of at most 1024 characters, got 0 characters'],
  ['an id over 1024 characters', { id: 'x'.repeat(1025) }, 'jobs[2].id must be a non-empty string of at most 1024 characters, got 1025 characters'],
  ['a lone surrogate in a callback id', { callbacks: [callback('success', { id: CUT })] }, `jobs[2].callbacks[0].job.id ${LONE}`],
  ['a lone surrogate in a chord callback task', { chord: { index: 0, size: 1, callback: callbackJob({ task: CUT }) } }, `jobs[2].chord.callback.task ${LONE}`],
  ['a chord index past its size', { chord: { index: 2, size: 2, callback: callbackJob() } }, 'jobs[2].chord.index must be below chord.size (2), got 2'],
  ['a fractional priority', { priority: 1.5 }, 'jobs[2].priority must be an integer, got 1.5'],
  ['a run time that is not a number', { runAt: Number.NaN }, 'jobs[2].runAt must be an integer >= 0, got NaN'],
  ['zero max deliveries', { maxDeliveries: 0 }, 'jobs[2].maxDeliveries must be an integer >= 1, got 0'],
  ['a negative key TTL', { idempotency: { key: 'k', ttlMs: -1 } }, 'jobs[2].idempotency.ttlMs must be an integer >= 0, got -1'],
  ['both an eta and a countdown', { runAt: T0, delayMs: 1000 }, 'jobs[2]: give runAt or delayMs, not both'],
  ['a negative countdown', { runAt: null, delayMs: -1 }, 'jobs[2].delayMs must be an integer >= 0, got -1'],
  ['a fractional expiry delay', { expiresAt: null, expiresInMs: 0.5 }, 'jobs[2].expiresInMs must be an integer >= 0, got 0.5'],
];

export function badInputTests(test: TestFn): void {
  for (const [what, bad, message] of BAD_JOBS) {
    test(`enqueue refuses a batch holding ${what}, and writes none of it`, async (h) => {
      const good = [newJob({ idempotency: { key: 'order-1', ttlMs: null } }), newJob({ callbacks: [callback('success')], queue: 'mail' })];
      await refused(h.store.jobsEnqueue([...good, newJob(bad)]), message);
      assert.equal(await jobCount(h), 0, 'no job of the batch was written');
      assert.deepEqual(await h.counters(), counters());
      for (const job of good) assert.equal(await h.store.jobGet(job.id), null);
      // Sent again without the bad job, the batch is created whole: no id or key was left taken.
      assert.deepEqual(await h.store.jobsEnqueue(good), good.map((j) => ({ id: j.id, created: true })));
      assert.deepEqual(await h.store.jobGet(good[0]!.id), pendingRecord(good[0]!, T0));
      assert.deepEqual((await h.reserve()).map((j) => j.id), [good[0]!.id]);
    });
  }

  test('enqueue refuses a tx that is not an open transaction (and every engine but PostgreSQL refuses any tx), writing nothing', async (h) => {
    const jobs = [newJob({ idempotency: { key: 'order-1', ttlMs: null } })];
    // Not a transaction on any engine: an object with neither query() nor unsafe().
    await assert.rejects(h.store.jobsEnqueue(jobs, { tx: {} }), (err: Error & { code?: string }) => {
      assert.equal(err.name, 'InvalidArgumentError', err.message);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      const notPostgres = `{ tx } enqueues inside your database transaction, so it needs the PostgreSQL store; this app's store is ${h.store.description}`;
      const notTransaction = 'tx must be your open transaction: a node-postgres client after BEGIN, a postgres.js transaction (sql.begin(tx => ...)), or an object with query(text, values) answering { rows }';
      assert.ok([notPostgres, notTransaction].includes(err.message), err.message);
      return true;
    });
    assert.equal(await jobCount(h), 0);
    assert.deepEqual(await h.counters(), counters());
    assert.deepEqual(await h.store.jobsEnqueue(jobs), [{ id: jobs[0]!.id, created: true }], 'the key was not left taken');
  });

  test('settle refuses a batch whose error record holds a lone surrogate; every delivery keeps its lease', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb' });
    const [a, b] = await h.enqueue({}, { chord: { index: 0, size: 1, callback: cb } });
    const [ra, rb] = await h.reserve();
    const waiting = (await h.enqueue({}))[0]!;
    const bad = { ...fail(rb!), error: { type: 'Error', message: CUT } };
    await refused(h.store.jobsSettle([complete(ra!), bad]), `settlements[1].error.message ${LONE}`);
    await refused(
      h.store.jobsSettleAndReserve({ settlements: [complete(ra!), bad], reserve: { queues: ['default'], workerId: 'w2', limit: 5, leaseMs: LEASE_MS } }),
      `settlements[1].error.message ${LONE}`,
    );
    for (const id of [a!.id, b!.id]) {
      const job = await h.get(id);
      assert.deepEqual([job.state, job.token, job.worker, job.leaseExpiresAt], ['STARTED', 1, 'worker-1', T0 + LEASE_MS], `job ${id}`);
    }
    assert.equal((await h.get(waiting.id)).state, 'PENDING', 'the refused call reserved nothing');
    assert.equal(await h.store.jobGet(cb.id), null, 'no chord callback');
    assert.deepEqual(await h.counters(), counters());
    // A lapse of the leases now would find them as they were: nothing half-settled to recover.
    h.advance(LEASE_MS + 1);
    assert.deepEqual((await h.store.jobsRecoverExpired()).requeued.sort(), [a!.id, b!.id].sort());
  });

  test('step writes and reads refuse a lone surrogate in the step name, recording nothing', async (h) => {
    await h.enqueue({});
    const job = await h.reserveOne();
    await refused(h.store.jobStepPut({ id: job.id, token: job.token, name: CUT, resultJson: '1' }), `step.name ${LONE}`);
    await refused(h.store.jobStepGet({ id: job.id, token: job.token, name: CUT }), `step.name ${LONE}`);
    assert.deepEqual(await h.store.jobSteps(job.id), []);
    assert.deepEqual(await h.counters(), counters());
  });

  test('progress refuses a fraction that is not a number from 0 to 1, recording nothing', async (h) => {
    await h.enqueue({});
    const job = await h.reserveOne();
    await refused(h.store.jobProgress({ id: job.id, token: job.token, fraction: Number.NaN, infoJson: null }), 'progress.fraction must be a number from 0 to 1, got NaN');
    await refused(h.store.jobProgress({ id: job.id, token: job.token, fraction: 1.5, infoJson: null }), 'progress.fraction must be a number from 0 to 1, got 1.5');
    assert.equal((await h.get(job.id)).progress, null);
  });

  test('pools refuse a batch of items holding a lone surrogate, adding or removing none of them', async (h) => {
    await refused(h.store.poolAdd({ pool: 'printers', items: ['p1', CUT] }), `items[1] ${LONE}`);
    assert.deepEqual(await h.store.poolItems('printers'), []);
    assert.equal(await h.store.poolAdd({ pool: 'printers', items: ['p1', 'p2'] }), 2);
    await refused(h.store.poolRemove({ pool: 'printers', items: ['p1', CUT] }), `items[1] ${LONE}`);
    assert.deepEqual((await h.store.poolItems('printers')).map((i) => i.item), ['p1', 'p2']);
    await refused(h.store.poolAcquire({ pool: CUT, holder: 'me', ttlMs: HOUR }), `pool ${LONE}`);
    await refused(h.store.poolAcquire({ pool: 'printers', holder: 'me', ttlMs: 0 }), 'ttlMs must be an integer >= 1, got 0');
    assert.deepEqual((await h.store.poolItems('printers')).map((i) => i.holder), [null, null]);
  });

  test('revoke refuses a reason holding a lone surrogate, and the job stays as it was', async (h) => {
    const [job] = await h.enqueue({});
    await refused(h.store.jobRevoke({ id: job!.id, terminate: false, reason: CUT }), `reason ${LONE}`);
    assert.deepEqual(await h.store.jobGet(job!.id), pendingRecord(job!, T0));
  });

  test('renew refuses a lease time below 1 ms, and the lease stays as it was', async (h) => {
    await h.enqueue({});
    const job = await h.reserveOne();
    await refused(h.store.jobsRenew({ leases: [job], leaseMs: 0 }), 'leaseMs must be an integer >= 1, got 0');
    assert.equal((await h.get(job.id)).leaseExpiresAt, T0 + LEASE_MS);
  });

  test('the registry and schedule ticks refuse names holding a lone surrogate', async (h) => {
    const worker = { id: CUT, hostname: 'h', pid: 1, queues: ['default'], concurrency: 1, startedAt: T0, active: [], counts: {} };
    await refused(h.store.workersHeartbeat({ worker, ttlMs: 1000 }), `worker.id ${LONE}`);
    assert.deepEqual(await h.store.workersList(), []);
    await refused(h.store.scheduleTickAdvance({ schedule: CUT, tick: T0 }), `schedule ${LONE}`);
  });
}
