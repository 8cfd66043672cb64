/** Conformance: `jobsEnqueue` (all or none) and `jobGet` (exactly what was enqueued). */
import assert from 'node:assert/strict';
import { complete, counters, HOUR, jobCount, SECOND, T0, newJob, pendingRecord, type TestFn } from './harness.js';

export function enqueueTests(test: TestFn): void {
  test('enqueue answers created:true for each job, in order', async (h) => {
    const jobs = [newJob(), newJob(), newJob()];
    assert.deepEqual(
      await h.store.jobsEnqueue(jobs),
      jobs.map((j) => ({ id: j.id, created: true })),
    );
  });

  test('enqueue of an empty batch answers [] and stores nothing', async (h) => {
    assert.deepEqual(await h.store.jobsEnqueue([]), []);
    assert.deepEqual(await h.store.queueStats(), []);
  });

  test('jobGet returns exactly what was enqueued', async (h) => {
    h.advance(1_234); // an enqueue time with ms precision
    // Non-canonical JSON (spaces, key order, 1.50, escapes, astral chars) must come back byte for byte.
    const scheduled = newJob({
      task: 'reports.build',
      queue: 'reports',
      argsJson: '[ "h\\u00e9llo 🌍" , {"b":1,"a":[2, 3.50e0]}, 1.50, null, "\\n" ]',
      priority: -7,
      runAt: T0 + 61_001,
      expiresAt: T0 + 3_600_999,
      maxDeliveries: 7,
    });
    const plain = newJob({ argsJson: '[]', priority: 2_000_000, expiresAt: null, maxDeliveries: 1 });
    await h.store.jobsEnqueue([scheduled, plain]);
    assert.deepEqual(await h.store.jobGet(scheduled.id), pendingRecord(scheduled, T0 + 1_234));
    assert.deepEqual(await h.store.jobGet(plain.id), pendingRecord(plain, T0 + 1_234));
  });

  test('a countdown and a relative expiry are durations, measured on the store clock from when it records the job', async (h) => {
    h.advance(500);
    const counted = newJob({ runAt: null, delayMs: 10 * SECOND, expiresAt: null, expiresInMs: 60 * SECOND });
    const now = newJob({ runAt: null, expiresAt: null });
    await h.store.jobsEnqueue([counted, now]);
    assert.deepEqual(await h.store.jobGet(counted.id), { ...pendingRecord(counted, T0 + 500), runAt: T0 + 500 + 10 * SECOND, expiresAt: T0 + 500 + 60 * SECOND });
    assert.deepEqual(await h.store.jobGet(now.id), { ...pendingRecord(now, T0 + 500), runAt: T0 + 500, expiresAt: null });
    assert.deepEqual((await h.reserve()).map((j) => j.id), [now.id]);
    h.advance(10 * SECOND);
    assert.deepEqual((await h.reserve()).map((j) => j.id), [counted.id]);
  });

  test('jobGet of an unknown id answers null', async (h) => {
    await h.enqueue({});
    assert.equal(await h.store.jobGet('no-such-job'), null);
  });

  test('enqueue of an id already stored answers created:false and never alters that job', async (h) => {
    const first = newJob({ argsJson: '["first"]' });
    await h.store.jobsEnqueue([first]);
    const fresh = newJob();
    const again = { ...first, argsJson: '["second"]', priority: 9 };
    assert.deepEqual(await h.store.jobsEnqueue([fresh, again]), [
      { id: fresh.id, created: true },
      { id: first.id, created: false },
    ]);
    assert.equal((await h.get(fresh.id)).state, 'PENDING');
    assert.deepEqual(await h.store.jobGet(first.id), pendingRecord(first, T0));
  });

  test('a repeated id within one batch: the first is kept, the repeat answers created:false', async (h) => {
    const a = newJob({ argsJson: '["a"]' });
    const dup = newJob({ id: a.id, task: 'test.other' });
    assert.deepEqual(await h.store.jobsEnqueue([a, dup]), [
      { id: a.id, created: true },
      { id: a.id, created: false },
    ]);
    assert.deepEqual(await h.store.jobGet(a.id), pendingRecord(a, T0));
  });

  test('an id stored in one queue is not created again in another: created:false, counted, the first untouched', async (h) => {
    const first = newJob({ queue: 'mail', argsJson: '["first"]' });
    await h.store.jobsEnqueue([first]);
    assert.deepEqual(await h.store.jobsEnqueue([{ ...first, queue: 'sms', argsJson: '["second"]' }]), [{ id: first.id, created: false }]);
    assert.deepEqual(await h.store.jobGet(first.id), pendingRecord(first, T0));
    assert.deepEqual(await h.reserve({ queues: ['sms'] }), []);
    assert.deepEqual((await h.store.queueStats()).map((q) => q.queue), ['mail']);
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1 }));
    // Settled through its id, the job is the one in its own queue.
    const job = await h.reserveOne({ queues: ['mail'] });
    assert.deepEqual(await h.settle(complete(job)), { id: first.id, ok: true });
    assert.equal((await h.get(first.id)).state, 'SUCCESS');
  });

  test('one id twice in a batch, for two queues: the first is created, the second answers created:false', async (h) => {
    const a = newJob({ queue: 'mail' });
    assert.deepEqual(await h.store.jobsEnqueue([a, { ...a, queue: 'sms' }]), [{ id: a.id, created: true }, { id: a.id, created: false }]);
    assert.equal((await h.get(a.id)).queue, 'mail');
    assert.equal(await jobCount(h), 1);
  });

  test('an id whose job was deleted (past its result TTL, or purged) can be sent again, to any queue', async (h) => {
    const [done, waiting] = await h.enqueue({ queue: 'mail' }, { queue: 'mail', runAt: T0 + HOUR });
    await h.settle(complete(await h.reserveOne({ queues: ['mail'] }), '1', SECOND));
    h.advance(SECOND + 1);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    assert.equal(await h.store.queuePurge('mail'), 1);
    assert.deepEqual(await h.store.jobsEnqueue([{ ...done!, queue: 'sms' }, { ...waiting!, queue: 'push' }]), [
      { id: done!.id, created: true }, { id: waiting!.id, created: true },
    ]);
    assert.deepEqual([(await h.get(done!.id)).queue, (await h.get(waiting!.id)).queue], ['sms', 'push']);
  });
}
