/** Conformance: `jobsSettle` (and `jobsSettleAndReserve`) — complete, fail, retry, release, and the fencing of each. */
import assert from 'node:assert/strict';
import { HOUR, LEASE_MS, SECOND, T0, complete, fail, lost, ok, release, retry, sampleError, type TestFn } from './harness.js';

export function settleTests(test: TestFn): void {
  test('complete: SUCCESS with the result, finishedAt, no lease', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne({ workerId: 'w1' });
    h.advance(2_345);
    assert.deepEqual(await h.settle(complete(r, '{"status":"sent","to":"a@b.c"}')), ok(job.id));
    const record = await h.get(job.id);
    assert.equal(record.state, 'SUCCESS');
    assert.equal(record.resultJson, '{"status":"sent","to":"a@b.c"}');
    assert.equal(record.finishedAt, T0 + 2_345);
    assert.equal(record.leaseExpiresAt, null);
    assert.equal(record.worker, 'w1');
    assert.equal(record.error, null);
    assert.equal(record.token, 1);
  });

  test('complete: a null result is stored as null', async (h) => {
    await h.enqueue({});
    const r = await h.reserveOne();
    assert.deepEqual(await h.settle(complete(r, null)), ok(r.id));
    const record = await h.get(r.id);
    assert.equal(record.state, 'SUCCESS');
    assert.equal(record.resultJson, null);
  });

  test('complete: the result is kept until resultTtlMs passes, then jobsDeleteExpired removes it', async (h) => {
    await h.enqueue({}, {});
    const [short, long] = await h.reserve();
    h.advance(500);
    await h.store.jobsSettle([complete(short, '"short"', 60 * SECOND), complete(long, '"long"', HOUR)]);
    h.advance(60 * SECOND - 1);
    assert.equal(await h.store.jobsDeleteExpired(), 0);
    assert.equal((await h.get(short.id)).resultJson, '"short"');
    h.advance(2);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    assert.equal(await h.store.jobGet(short.id), null);
    assert.equal((await h.get(long.id)).resultJson, '"long"');
    assert.equal(await h.store.jobsDeleteExpired(), 0, 'deleting is idempotent');
    h.advance(HOUR);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    assert.equal(await h.store.jobGet(long.id), null);
  });

  test('fail: FAILURE with the error kept exactly', async (h) => {
    await h.enqueue({});
    const r = await h.reserveOne({ workerId: 'w1' });
    h.advance(77);
    const error = sampleError('mailbox full');
    assert.deepEqual(await h.settle(fail(r, error)), ok(r.id));
    const record = await h.get(r.id);
    assert.equal(record.state, 'FAILURE');
    assert.deepEqual(record.error, error);
    assert.equal(record.finishedAt, T0 + 77);
    assert.equal(record.leaseExpiresAt, null);
    assert.equal(record.resultJson, null);
    assert.equal(record.worker, 'w1');
  });

  test('fail: an error without stack or code round-trips without them', async (h) => {
    await h.enqueue({});
    const r = await h.reserveOne();
    await h.settle(fail(r, { type: 'TypeError', message: 'x is not a function' }));
    assert.deepEqual((await h.get(r.id)).error, { type: 'TypeError', message: 'x is not a function' });
  });

  test('retry: RETRY with the error, the next attempt, deliveries reset, runAt set', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    const error = sampleError('try later');
    assert.deepEqual(await h.settle(retry(r, 10 * SECOND, error)), ok(job.id));
    const record = await h.get(job.id);
    assert.equal(record.state, 'RETRY');
    assert.deepEqual(record.error, error);
    assert.equal(record.attempt, 2);
    assert.equal(record.deliveries, 0);
    assert.equal(record.runAt, T0 + 10 * SECOND);
    assert.equal(record.leaseExpiresAt, null);
  });

  test('retry: not reservable before runAt, reservable at runAt as the next attempt', async (h) => {
    const [job] = await h.enqueue({});
    await h.settle(retry(await h.reserveOne(), 10 * SECOND));
    h.advance(10 * SECOND - 1);
    assert.deepEqual(await h.reserve(), []);
    h.advance(1);
    const again = await h.reserveOne();
    assert.equal(again.id, job.id);
    assert.equal(again.attempt, 2);
    assert.equal(again.deliveries, 1);
    assert.equal(again.token, 2);
    assert.equal((await h.get(job.id)).state, 'STARTED');
  });

  test('release: PENDING again, the delivery not counted, reservable at once', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 3 });
    await h.reserveOne();
    await h.loseLeases();
    const second = await h.reserveOne();
    assert.equal(second.deliveries, 2);
    assert.deepEqual(await h.settle(release(second)), ok(job.id));
    const record = await h.get(job.id);
    assert.equal(record.state, 'PENDING');
    assert.equal(record.deliveries, 1);
    assert.equal(record.attempt, 1);
    assert.equal(record.leaseExpiresAt, null);
    const third = await h.reserveOne();
    assert.equal(third.deliveries, 2);
    assert.equal(third.token, 3);
  });

  test('release of a later attempt: PENDING again (not RETRY), the attempt kept', async (h) => {
    const [job] = await h.enqueue({});
    await h.settle(retry(await h.reserveOne(), 0));
    const second = await h.reserveOne();
    assert.equal(second.attempt, 2);
    assert.deepEqual(await h.settle(release(second)), ok(job.id));
    const record = await h.get(job.id);
    assert.equal(record.state, 'PENDING');
    assert.deepEqual([record.attempt, record.deliveries], [2, 0]);
  });

  test('release: released deliveries never use up maxDeliveries', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 1 });
    for (let i = 0; i < 3; i++) await h.settle(release(await h.reserveOne()));
    const r = await h.reserveOne();
    assert.equal(r.deliveries, 1);
    const recovered = await h.loseLeases();
    assert.deepEqual(recovered, { requeued: [], failed: [job.id] });
  });

  test('settle with a stale token is refused and the newer outcome stands', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne({ workerId: 'slow' });
    await h.loseLeases();
    const second = await h.reserveOne({ workerId: 'fast' });
    assert.deepEqual(await h.settle(complete(first, '"from slow"')), lost(job.id, 'stale'));
    let record = await h.get(job.id);
    assert.equal(record.state, 'STARTED');
    assert.equal(record.worker, 'fast');
    assert.equal(record.token, second.token);
    assert.equal(record.resultJson, null);
    assert.deepEqual(await h.settle(complete(second, '"from fast"')), ok(job.id));
    assert.deepEqual(await h.settle(fail(first)), lost(job.id, 'stale'));
    assert.deepEqual(await h.settle(complete(first, '"from slow"')), lost(job.id, 'stale'));
    record = await h.get(job.id);
    assert.equal(record.state, 'SUCCESS');
    assert.equal(record.resultJson, '"from fast"');
    assert.equal(record.error, null);
  });

  test('settle after the lease was recovered but before redelivery is refused as stale', async (h) => {
    // The job is PENDING again: its old holder no longer holds it, even though no newer token exists yet.
    await h.enqueue({});
    const r = await h.reserveOne();
    await h.loseLeases();
    assert.deepEqual(await h.settle(complete(r)), lost(r.id, 'stale'));
    assert.equal((await h.get(r.id)).state, 'PENDING');
    assert.equal((await h.reserveOne()).id, r.id);
  });

  test('a release with a stale token leaves the newer delivery alone', async (h) => {
    await h.enqueue({});
    const first = await h.reserveOne();
    await h.loseLeases();
    const second = await h.reserveOne({ workerId: 'w2' });
    assert.deepEqual(await h.settle(release(first)), lost(first.id, 'stale'));
    const record = await h.get(first.id);
    assert.equal(record.state, 'STARTED');
    assert.equal(record.deliveries, 2);
    assert.equal(record.leaseExpiresAt, second.leaseExpiresAt);
  });

  test('settling a final job answers final and changes nothing', async (h) => {
    const [done, failed] = await h.enqueue({}, {});
    const [a, b] = await h.reserve();
    await h.store.jobsSettle([complete(a, '"once"'), fail(b)]);
    h.advance(5);
    assert.deepEqual(await h.store.jobsSettle([complete(a, '"twice"'), fail(a), retry(b, 0), complete(b), release(a)]), [
      lost(done.id, 'final'),
      lost(done.id, 'final'),
      lost(failed.id, 'final'),
      lost(failed.id, 'final'),
      lost(done.id, 'final'),
    ]);
    const record = await h.get(done.id);
    assert.equal(record.resultJson, '"once"');
    assert.equal(record.finishedAt, T0);
    assert.equal((await h.get(failed.id)).state, 'FAILURE');
  });

  test('settling an unknown job answers missing', async (h) => {
    assert.deepEqual(await h.store.jobsSettle([complete({ id: 'ghost', token: 1 })]), [lost('ghost', 'missing')]);
  });

  test('a batch applies its good settlements and refuses the bad, answering in order', async (h) => {
    const [stale, good, alsoGood] = await h.enqueue({ priority: 2 }, { priority: 1 }, {});
    const old = await h.reserveOne();
    assert.equal(old.id, stale.id);
    await h.loseLeases();
    const [current, g, ag] = await h.reserve({ limit: 3 });
    assert.equal(current.id, stale.id);
    const outcomes = await h.store.jobsSettle([fail(g), complete(old, '"stale"'), complete({ id: 'ghost', token: 1 }), retry(ag, LEASE_MS)]);
    assert.deepEqual(outcomes, [ok(good.id), lost(stale.id, 'stale'), lost('ghost', 'missing'), ok(alsoGood.id)]);
    assert.equal((await h.get(good.id)).state, 'FAILURE');
    assert.equal((await h.get(alsoGood.id)).state, 'RETRY');
    assert.equal((await h.get(stale.id)).state, 'STARTED');
    assert.equal((await h.get(stale.id)).resultJson, null);
  });

  test('settle answers [] for an empty batch', async (h) => {
    assert.deepEqual(await h.store.jobsSettle([]), []);
  });

  test('settle-and-reserve: settles in order, then reserves the next due jobs, in one transition', async (h) => {
    const [first, second, third] = await h.enqueue({ priority: 3 }, { priority: 2 }, { priority: 1 });
    const held = await h.reserveOne();
    assert.equal(held.id, first.id);
    const { outcomes, jobs } = await h.store.jobsSettleAndReserve({
      settlements: [complete(held), complete({ id: 'ghost', token: 1 })],
      reserve: { queues: ['default'], workerId: 'worker-1', limit: 5, leaseMs: LEASE_MS },
    });
    assert.deepEqual(outcomes, [ok(first.id), lost('ghost', 'missing')]);
    assert.deepEqual(jobs.map((j) => j.id), [second.id, third.id]);
    assert.ok(jobs.every((j) => j.token === 1 && j.leaseExpiresAt === T0 + LEASE_MS));
    assert.equal((await h.get(first.id)).state, 'SUCCESS');
    assert.equal((await h.get(second.id)).state, 'STARTED');
  });

  test('settle-and-reserve: a retry due now is reservable in the same transition', async (h) => {
    const [job] = await h.enqueue({});
    const held = await h.reserveOne();
    const { outcomes, jobs } = await h.store.jobsSettleAndReserve({
      settlements: [retry(held, 0)],
      reserve: { queues: ['default'], workerId: 'worker-1', limit: 1, leaseMs: LEASE_MS },
    });
    assert.deepEqual(outcomes, [ok(job.id)]);
    assert.deepEqual(jobs.map((j) => [j.id, j.attempt, j.token]), [[job.id, 2, 2]]);
  });

  test('settle-and-reserve with reserve null only settles; with no settlements only reserves', async (h) => {
    const [a, b] = await h.enqueue({ priority: 1 }, {});
    const held = await h.reserveOne();
    assert.deepEqual(await h.store.jobsSettleAndReserve({ settlements: [fail(held)], reserve: null }), { outcomes: [ok(a.id)], jobs: [] });
    assert.equal((await h.get(b.id)).state, 'PENDING');
    const { outcomes, jobs } = await h.store.jobsSettleAndReserve({
      settlements: [],
      reserve: { queues: ['default'], workerId: 'worker-1', limit: 1, leaseMs: LEASE_MS },
    });
    assert.deepEqual(outcomes, []);
    assert.deepEqual(jobs.map((j) => j.id), [b.id]);
  });
}
