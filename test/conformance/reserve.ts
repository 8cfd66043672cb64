/** Conformance: `jobsReserve` — which jobs, in what order, and what a delivery records. */
import assert from 'node:assert/strict';
import { LEASE_MS, T0, descendingIds, idsOf, newJob, retry, sorted, type TestFn } from './harness.js';

export function reserveTests(test: TestFn): void {
  test('reserve leases a job: token 1, deliveries 1, STARTED, worker, startedAt, lease', async (h) => {
    const [job] = await h.enqueue({ argsJson: '[ "a" ,1 ]', queue: 'emails', task: 'email.send' });
    h.advance(1_234);
    const reserved = await h.reserve({ queues: ['emails'], workerId: 'host-a:1234', leaseMs: 45_001 });
    assert.deepEqual(reserved, [
      {
        id: job.id,
        task: 'email.send',
        queue: 'emails',
        argsJson: '[ "a" ,1 ]',
        attempt: 1,
        deliveries: 1,
        token: 1,
        enqueuedAt: T0,
        leaseExpiresAt: T0 + 1_234 + 45_001,
        parent: null,
      },
    ]);
    const record = await h.get(job.id);
    assert.equal(record.state, 'STARTED');
    assert.equal(record.worker, 'host-a:1234');
    assert.equal(record.startedAt, T0 + 1_234);
    assert.equal(record.leaseExpiresAt, T0 + 1_234 + 45_001);
    assert.equal(record.token, 1);
    assert.equal(record.deliveries, 1);
    assert.equal(record.attempt, 1);
    assert.equal(record.finishedAt, null);
  });

  test('reserve takes higher priority first, negative priorities last', async (h) => {
    const jobs = await h.enqueue({ priority: 0 }, { priority: 5 }, { priority: -1 }, { priority: 10 });
    const [p0, p5, pNeg, p10] = idsOf(jobs);
    assert.deepEqual(idsOf(await h.reserve({ limit: 4 })), [p10, p5, p0, pNeg]);
  });

  test('reserve breaks priority ties by earliest runAt', async (h) => {
    h.advance(100);
    const jobs = await h.enqueue({ runAt: T0 + 90 }, { runAt: T0 + 10 }, { runAt: T0 + 50 }, { runAt: T0 + 30, priority: -1 });
    const [late, early, mid, lowPriorityEarly] = idsOf(jobs);
    assert.deepEqual(idsOf(await h.reserve({ limit: 4 })), [early, mid, late, lowPriorityEarly]);
  });

  test('reserve breaks priority and runAt ties by enqueue order across batches', async (h) => {
    // Ids sort against enqueue order, so ordering by id cannot pass.
    const ids = descendingIds(6, 'fifo');
    await h.store.jobsEnqueue([newJob({ id: ids[0] })]);
    await h.store.jobsEnqueue([newJob({ id: ids[1] })]);
    await h.store.jobsEnqueue([newJob({ id: ids[2] }), newJob({ id: ids[3] })]);
    await h.store.jobsEnqueue([newJob({ id: ids[4] })]);
    await h.store.jobsEnqueue([newJob({ id: ids[5] })]);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push(...idsOf(await h.reserve({ limit: 2 })));
    assert.deepEqual(order, ids);
  });

  test('reserve breaks ties within one batch by position in the batch', async (h) => {
    const ids = descendingIds(8, 'batch');
    await h.store.jobsEnqueue(ids.map((id) => newJob({ id, runAt: T0 - 5 })));
    assert.deepEqual(idsOf(await h.reserve({ limit: 3 })), ids.slice(0, 3));
    assert.deepEqual(idsOf(await h.reserve({ limit: 10 })), ids.slice(3));
  });

  test('reserve answers jobs in reservation order within one call', async (h) => {
    const ids = descendingIds(5, 'mixed');
    await h.store.jobsEnqueue([
      newJob({ id: ids[0], priority: 1, runAt: T0 - 1 }),
      newJob({ id: ids[1], priority: 3 }),
      newJob({ id: ids[2], priority: 1, runAt: T0 - 2 }),
      newJob({ id: ids[3], priority: 3 }),
      newJob({ id: ids[4], priority: 2 }),
    ]);
    assert.deepEqual(idsOf(await h.reserve({ limit: 5 })), [ids[1], ids[3], ids[4], ids[2], ids[0]]);
  });

  test('reserve takes only due jobs: runAt <= now', async (h) => {
    const [due, atNow, later] = await h.enqueue({ runAt: T0 - 1 }, { runAt: T0 }, { runAt: T0 + 1 });
    assert.deepEqual(sorted(idsOf(await h.reserve())), sorted([due.id, atNow.id]));
    assert.deepEqual(await h.reserve(), []);
    h.advance(1);
    assert.deepEqual(idsOf(await h.reserve()), [later.id]);
  });

  test('reserve respects limit and leaves the rest PENDING', async (h) => {
    const jobs = await h.enqueue({}, {}, {}, {}, {});
    const taken = await h.reserve({ limit: 2 });
    assert.deepEqual(idsOf(taken), idsOf(jobs.slice(0, 2)));
    for (const job of jobs.slice(2)) assert.equal((await h.get(job.id)).state, 'PENDING');
    assert.equal((await h.reserve({ limit: 1 })).length, 1);
    assert.equal((await h.reserve({ limit: 100 })).length, 2);
  });

  test('reserve takes only from the queues asked for, from all of them', async (h) => {
    const [a, b, c] = await h.enqueue({ queue: 'qa' }, { queue: 'qb', priority: 1 }, { queue: 'qc', priority: 9 });
    assert.deepEqual(await h.reserve({ queues: ['nothing-here'] }), []);
    const taken = await h.reserve({ queues: ['qa', 'qb'] });
    assert.deepEqual(idsOf(taken), [b.id, a.id]);
    assert.deepEqual(taken.map((j) => j.queue), ['qb', 'qa']);
    assert.equal((await h.get(c.id)).state, 'PENDING');
    assert.deepEqual(idsOf(await h.reserve({ queues: ['qc'] })), [c.id]);
  });

  test('reserve never hands out a job twice while its lease holds', async (h) => {
    const [job] = await h.enqueue({});
    await h.reserveOne({ workerId: 'w1' });
    assert.deepEqual(await h.reserve({ workerId: 'w2' }), []);
    h.advance(LEASE_MS - 1);
    assert.deepEqual(await h.reserve({ workerId: 'w2' }), []);
    await h.store.jobsRecoverExpired();
    assert.deepEqual(await h.reserve({ workerId: 'w2' }), []);
    await h.loseLeases();
    const again = await h.reserveOne({ workerId: 'w2' });
    assert.equal(again.id, job.id);
    assert.equal((await h.get(job.id)).worker, 'w2');
  });

  test('token grows by 1 and deliveries by 1 on every delivery of an attempt', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 5 });
    const seen: [number, number][] = [];
    for (let i = 0; i < 4; i++) {
      const r = await h.reserveOne();
      assert.equal(r.leaseExpiresAt, h.now + LEASE_MS);
      seen.push([r.token, r.deliveries]);
      await h.loseLeases();
    }
    assert.deepEqual(seen, [[1, 1], [2, 2], [3, 3], [4, 4]]);
    assert.equal((await h.get(job.id)).attempt, 1);
  });

  test('reserve revokes due jobs past expiresAt instead, without counting them against limit', async (h) => {
    const [expiring, plain] = await h.enqueue({ priority: 9, expiresAt: T0 + 10 }, { priority: 0 });
    h.advance(11);
    assert.deepEqual(idsOf(await h.reserve({ limit: 1 })), [plain.id]);
    const record = await h.get(expiring.id);
    assert.equal(record.state, 'REVOKED');
    assert.deepEqual(record.error, {
      type: 'JobExpiredError', code: 'EXPIRED', message: `job ${expiring.id} expired before a worker could start it (its expires time had passed)`,
    });
    assert.deepEqual(await h.reserve(), []);
  });

  test('a retry that comes due after expiresAt is revoked instead of reserved', async (h) => {
    const [job] = await h.enqueue({ expiresAt: T0 + 5 * LEASE_MS });
    await h.settle(retry(await h.reserveOne(), 10 * LEASE_MS));
    h.advance(10 * LEASE_MS);
    assert.deepEqual(await h.reserve(), []);
    assert.equal((await h.get(job.id)).state, 'REVOKED');
  });

  test('a job whose expiresAt equals now is still reserved', async (h) => {
    const [job] = await h.enqueue({ expiresAt: T0 + 10 });
    h.advance(10);
    assert.deepEqual(idsOf(await h.reserve()), [job.id]);
  });

  test('reserve answers [] on an empty store', async (h) => {
    assert.deepEqual(await h.reserve({ queues: ['default', 'other'] }), []);
  });
}
