/**
 * Conformance: chords — `NewJob.chord` ({@link ChordMember}). When every member is final the store
 * enqueues the chord's callback once, with the members' results in index order prepended to its
 * args; if any member did not succeed, the callback is recorded as FAILURE with a ChordError.
 */
import assert from 'node:assert/strict';
import type { CallbackJob, ChordMember, NewJob } from '../../src/store/store.js';
import type { Harness } from './harness.js';
import {
  HOUR,
  SECOND,
  T0,
  callback,
  callbackJob,
  complete,
  counters,
  fail,
  firedRecord,
  jobCount,
  lost,
  newJob,
  ok,
  pendingRecord,
  retry,
  type TestFn,
} from './harness.js';

/** Overrides of `size` chord members bound to `cb`; member i gets `more[i]`. */
function members(cb: CallbackJob, size: number, more: Partial<NewJob>[] = []): Partial<NewJob>[] {
  return Array.from({ length: size }, (_, index) => ({ chord: { index, size, callback: cb } satisfies ChordMember, ...more[index] }));
}

/** The chord's callback is recorded as FAILURE with a ChordError (with `message`) and cannot run. */
async function assertChordFailed(h: Harness, cb: CallbackJob, when: string, message: string): Promise<void> {
  const record = await h.get(cb.id);
  assert.equal(record.state, 'FAILURE', when);
  assert.deepEqual(record.error, { type: 'ChordError', code: 'CHORD_FAILED', message }, when);
  assert.deepEqual(await h.reserve({ queues: [cb.queue] }), [], `${when}: nothing to reserve`);
}

function successTests(test: TestFn): void {
  test('chords: the callback is enqueued once, after the last member, with the results in index order', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '[1,"x"]' });
    const queues = ['qa', 'qb', 'qc'];
    const jobs = await h.enqueue(...members(cb, 3, queues.map((queue) => ({ queue }))));
    const [r0, r1, r2] = await Promise.all(queues.map((queue) => h.reserveOne({ queues: [queue] })));
    assert.deepEqual([r0.id, r1.id, r2.id], jobs.map((j) => j.id));
    h.advance(10);
    assert.deepEqual(await h.settle(complete(r2, '{"k":1.50}')), ok(r2.id));
    assert.equal(await h.store.jobGet(cb.id), null, 'after 1 of 3');
    h.advance(10);
    await h.settle(complete(r0, '[0.1,[],{}]'));
    assert.equal(await h.store.jobGet(cb.id), null, 'after 2 of 3');
    h.advance(10);
    await h.settle(complete(r1, '"x"'));
    // No single job fired it, so a chord's callback has no parent.
    assert.deepEqual(await h.store.jobGet(cb.id), firedRecord(cb, h.now, null, '[[[0.1,[],{}],"x",{"k":1.50}],1,"x"]'));
    assert.deepEqual((await h.reserve({ queues: ['chord-cb'] })).map((j) => [j.id, j.argsJson]), [[cb.id, '[[[0.1,[],{}],"x",{"k":1.50}],1,"x"]']]);
    assert.deepEqual(await h.counters(), counters());
  });

  test('chords: a member settled again (stale, after a retry, when final) counts once', async (h) => {
    const cb = callbackJob({ argsJson: '[]' });
    const [m0, m1, m2] = await h.enqueue(...members(cb, 3, [{ priority: 3 }, { priority: 2 }, { priority: 1 }]));
    const old0 = await h.reserveOne();
    assert.equal(old0.id, m0.id);
    await h.loseLeases();
    const [r0, r1, r2] = await h.reserve({ limit: 3 });
    assert.deepEqual([r0.id, r1.id, r2.id], [m0.id, m1.id, m2.id]);
    assert.deepEqual(await h.store.jobsSettle([complete(old0, '"stale"'), complete(r0, '0'), complete(r0, '"twice"')]), [
      lost(m0.id, 'stale'),
      ok(m0.id),
      lost(m0.id, 'final'),
    ]);
    await h.settle(retry(r1, 0));
    const again1 = await h.reserveOne();
    assert.equal(again1.id, m1.id);
    await h.settle(complete(again1, '1'));
    assert.equal(await h.store.jobGet(cb.id), null, 'm2 is still running');
    await h.settle(complete(r2, '2'));
    assert.equal((await h.get(cb.id)).argsJson, '[[0,1,2]]');
    assert.equal(await jobCount(h), 4);
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 1 }));
  });

  test('chords: members settled concurrently through two handles enqueue the callback exactly once', async (h) => {
    const other = await h.openShared();
    const cb = callbackJob({ argsJson: '["sum"]' });
    await h.enqueue(...members(cb, 10));
    const held = await h.reserve({ limit: 10 });
    const byIndex = new Map(held.map((r, i) => [r.id, i]));
    // Settle in reverse index order, alternating handles, all at once.
    const outcomes = await Promise.all(
      [...held].reverse().map((r, i) => (i % 2 === 0 ? h.store : other).jobsSettle([complete(r, String(byIndex.get(r.id)))])),
    );
    assert.ok(outcomes.flat().every((o) => o.ok));
    assert.equal((await h.get(cb.id)).argsJson, '[[0,1,2,3,4,5,6,7,8,9],"sum"]');
    assert.equal(await jobCount(h), 11);
    assert.deepEqual(await h.counters(), counters());
  });

  test('chords: 40 members over 4 queues, settled in batches out of order, give results in index order', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '["end"]' });
    const queues = ['m0', 'm1', 'm2', 'm3'];
    const jobs = await h.enqueue(...members(cb, 40, Array.from({ length: 40 }, (_, i) => ({ queue: queues[i % 4] }))));
    const indexOf = new Map(jobs.map((j, i) => [j.id, i]));
    for (const queue of [...queues].reverse()) {
      const held = await h.reserve({ queues: [queue], limit: 10 });
      assert.equal(await h.store.jobGet(cb.id), null);
      const { outcomes } = await h.store.jobsSettleAndReserve({
        settlements: held.reverse().map((r) => complete(r, `{"i":${indexOf.get(r.id)}}`)),
        reserve: null,
      });
      assert.ok(outcomes.every((o) => o.ok));
    }
    const results = Array.from({ length: 40 }, (_, i) => `{"i":${i}}`).join(',');
    assert.equal((await h.get(cb.id)).argsJson, `[[${results}],"end"]`);
    assert.equal(await jobCount(h), 41);
  });

  test('chords: a callback whose id is already stored is not enqueued again, and counts', async (h) => {
    const existing = newJob({ queue: 'callbacks', argsJson: '["mine"]' });
    await h.store.jobsEnqueue([existing]);
    await h.enqueue(...members(callbackJob({ id: existing.id }), 1));
    await h.completeOne('1');
    assert.deepEqual(await h.store.jobGet(existing.id), pendingRecord(existing, T0));
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 1 }));
  });

  test('chords: a callback whose id is stored in another queue is not enqueued, and counts', async (h) => {
    const existing = newJob({ queue: 'elsewhere', argsJson: '["mine"]' });
    await h.store.jobsEnqueue([existing]);
    await h.enqueue(...members(callbackJob({ id: existing.id, queue: 'chord-cb' }), 1));
    await h.completeOne('1');
    assert.deepEqual(await h.store.jobGet(existing.id), pendingRecord(existing, T0));
    assert.deepEqual(await h.reserve({ queues: ['chord-cb'] }), []);
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 1 }));
  });

  test('chords: a member’s result counts even after the member was deleted past its result TTL', async (h) => {
    const cb = callbackJob({ argsJson: '[]' });
    const [m0] = await h.enqueue(...members(cb, 2, [{ priority: 1 }, {}]));
    const [r0, r1] = await h.reserve({ limit: 2 });
    await h.settle(complete(r0, '"early"', SECOND));
    h.advance(SECOND + 1);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    assert.equal(await h.store.jobGet(m0.id), null);
    await h.settle(complete(r1, '"late"'));
    assert.equal((await h.get(cb.id)).argsJson, '[["early","late"]]');
  });

  test('chords: a chord of one enqueues its callback with its member, alongside the member’s own callbacks', async (h) => {
    const cb = callbackJob({ argsJson: '["tail"]' });
    const own = callback('success', { argsJson: '[]' }, true);
    await h.enqueue(...members(cb, 1, [{ callbacks: [own] }]));
    await h.completeOne('null');
    assert.equal((await h.get(cb.id)).argsJson, '[[null],"tail"]');
    assert.equal((await h.get(own.job.id)).argsJson, '[null]');
  });
}

function failureTests(test: TestFn): void {
  test('chords: a member that fails makes the callback FAILURE with a ChordError, never reserved', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb' });
    const jobs = await h.enqueue(...members(cb, 3, [{ queue: 'qa' }, { queue: 'qb' }, { queue: 'qa' }]));
    const [r0, r2] = await h.reserve({ queues: ['qa'] });
    const r1 = await h.reserveOne({ queues: ['qb'] });
    assert.deepEqual([r0.id, r1.id, r2.id], jobs.map((j) => j.id));
    // Pinned (as Celery): the chord is decided when every member is final, not at the first failure.
    await h.settle(fail(r1));
    assert.equal(await h.store.jobGet(cb.id), null, 'after the failure, 1 of 3');
    await h.settle(complete(r0, '0'));
    assert.equal(await h.store.jobGet(cb.id), null, 'after 2 of 3');
    await h.settle(complete(r2, '2'));
    const message = `chord member ${jobs[1]!.id} (index 1) ended FAILURE: NetworkError: connection reset`;
    await assertChordFailed(h, cb, 'after 3 of 3', message);
    assert.equal((await h.get(cb.id)).parent, null);
    // A dead letter like any FAILURE: listed and counted in its queue.
    assert.deepEqual((await h.store.jobsList({ states: ['FAILURE'], queue: 'chord-cb', limit: 10 })).map((j) => j.id), [cb.id]);
    const stats = (await h.store.queueStats()).find((q) => q.queue === 'chord-cb');
    assert.deepEqual(stats?.counts, { PENDING: 0, STARTED: 0, RETRY: 0, SUCCESS: 0, FAILURE: 1, REVOKED: 0 });
    h.advance(HOUR);
    await assertChordFailed(h, cb, 'an hour later', message);
  });

  test('chords: a revoked member fails the chord too', async (h) => {
    const cb = callbackJob();
    const [m0, m1] = await h.enqueue(...members(cb, 2, [{ priority: 1 }, {}]));
    await h.store.jobRevoke({ id: m1.id, terminate: false });
    const r0 = await h.reserveOne();
    assert.equal(r0.id, m0.id);
    await h.settle(complete(r0));
    await assertChordFailed(h, cb, 'after the chord failed', `chord member ${m1.id} (index 1) ended REVOKED: RevokedError: revoked`);
  });

  test('chords: a member lost past maxDeliveries or expired at reserve fails the chord', async (h) => {
    const [lostCb, expiredCb] = [callbackJob({ queue: 'cb-lost' }), callbackJob({ queue: 'cb-expired' })];
    const [lost, , expired] = await h.enqueue(
      ...members(lostCb, 2, [{ maxDeliveries: 1, priority: 1 }, { queue: 'other' }]),
      ...members(expiredCb, 2, [{ expiresAt: T0, priority: 2 }, { queue: 'other' }]),
    );
    h.advance(1);
    await h.reserveOne();
    await h.loseLeases();
    await h.store.jobsSettle((await h.reserve({ queues: ['other'] })).map((r) => complete(r)));
    await assertChordFailed(h, lostCb, 'lost', `chord member ${lost.id} (index 0) ended FAILURE: WorkerLostError: job ${lost.id} was delivered 1 times and its worker was lost each time (killed, crashed or frozen past its lease); giving up`);
    await assertChordFailed(h, expiredCb, 'expired', `chord member ${expired.id} (index 0) ended REVOKED: JobExpiredError: job ${expired.id} expired before a worker could start it (its expires time had passed)`);
  });

  test('chords: a callback recorded as FAILURE fires its own failure callbacks', async (h) => {
    const errback = callback('failure', { queue: 'errbacks' });
    const success = callback('success', { queue: 'errbacks' });
    const cb = callbackJob({ callbacks: [errback, success] });
    await h.enqueue(...members(cb, 1));
    await h.settle(fail(await h.reserveOne()));
    const fired = await h.get(errback.job.id);
    assert.equal(fired.parent?.id, cb.id);
    assert.equal(fired.parent?.state, 'FAILURE');
    assert.equal(fired.parent?.error?.type, 'ChordError');
    assert.equal(await h.store.jobGet(success.job.id), null);
  });

  test('chords: a member retried from the dead letter is not counted again', async (h) => {
    const cb = callbackJob();
    const [m0] = await h.enqueue(...members(cb, 2, [{ priority: 1 }, {}]));
    const [r0, r1] = await h.reserve({ limit: 2 });
    await h.store.jobsSettle([fail(r0), complete(r1)]);
    const failed = await h.get(cb.id);
    assert.equal(failed.state, 'FAILURE');
    assert.equal(await h.store.jobRetry(m0.id), 'retried');
    await h.completeOne();
    assert.deepEqual(await h.get(cb.id), failed);
    assert.equal(await jobCount(h), 3);
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 1 }));
  });
}

export function chordTests(test: TestFn): void {
  successTests(test);
  failureTests(test);
}
