/**
 * Conformance: enqueue dedup — `NewJob.idempotency` and `duplicates_suppressed_total`.
 *
 * Terminology: the *holder* of a key is the latest job enqueued with it; it holds the key while it
 * exists and is not final, and for `ttlMs` after `finishedAt` once final (see `jobsEnqueue`).
 */
import assert from 'node:assert/strict';
import type { NewJob } from '../../src/store/store.js';
import { DAY, HOUR, LEASE_MS, SECOND, T0, complete, counters, fail, keyed, newJob, pendingRecord, retry, type TestFn } from './harness.js';

/** The overrides of a job that dedups on `key`. */
function heldTests(test: TestFn): void {
  test('dedup: a held key answers the holder id, created:false, and stores nothing', async (h) => {
    const holder = newJob(keyed('order-42'));
    assert.deepEqual(await h.store.jobsEnqueue([holder]), [{ id: holder.id, created: true }]);
    const dup = newJob(keyed('order-42', DAY, { argsJson: '["other"]', priority: 9, task: 'test.other' }));
    assert.deepEqual(await h.store.jobsEnqueue([dup]), [{ id: holder.id, created: false }]);
    assert.equal(await h.store.jobGet(dup.id), null);
    assert.deepEqual(await h.store.jobGet(holder.id), pendingRecord(holder, T0), 'the holder is left exactly as it was');
    assert.equal((await h.get(holder.id)).idempotencyKey, 'order-42');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1 }));
  });

  test('dedup: the key is held while its job is PENDING, STARTED, RETRY and PENDING again after a lost lease', async (h) => {
    const [holder] = await h.enqueue(keyed('k', null, { maxDeliveries: 5 }));
    const tryDup = async (state: string) => {
      assert.equal((await h.get(holder.id)).state, state);
      assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: holder.id, created: false }], `held while ${state}`);
    };
    await tryDup('PENDING');
    const first = await h.reserveOne();
    await tryDup('STARTED');
    await h.settle(retry(first, SECOND)); // RETRY is not final: the key survives it
    await tryDup('RETRY');
    h.advance(SECOND);
    await h.reserveOne();
    await tryDup('STARTED');
    await h.loseLeases();
    await tryDup('PENDING');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 5 }));
    assert.deepEqual((await h.store.queueStats()).map((s) => s.counts.PENDING), [1], 'only the holder exists');
  });

  test('dedup: keys are independent, and jobs without a key never dedup', async (h) => {
    // Keys are compared exactly: a prefix, a colon or a case change is another key (an empty
    // key is refused: bad-input.ts).
    const jobs = ['a', 'a:', 'A', 'a:b', '{a}', 'é 🌍', ' '].map((key) => newJob(keyed(key)));
    const [c, d] = [newJob(), newJob()];
    assert.deepEqual(await h.store.jobsEnqueue([...jobs, c, d]), [...jobs, c, d].map((j) => ({ id: j.id, created: true })));
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('a:b'))]), [{ id: jobs[3].id, created: false }]);
    assert.equal((await h.get(c.id)).idempotencyKey, null);
    assert.equal((await h.get(jobs[5].id)).idempotencyKey, 'é 🌍');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1 }));
  });

  test('dedup: a repeated key within one batch: the first is created, the rest answer its id', async (h) => {
    const [a, dup1, other, plain, dup2] = [newJob(keyed('k')), newJob(keyed('k')), newJob(keyed('k2')), newJob(), newJob(keyed('k', HOUR))];
    assert.deepEqual(await h.store.jobsEnqueue([a, dup1, other, plain, dup2]), [
      { id: a.id, created: true },
      { id: a.id, created: false },
      { id: other.id, created: true },
      { id: plain.id, created: true },
      { id: a.id, created: false },
    ]);
    assert.equal(await h.store.jobGet(dup1.id), null);
    assert.equal(await h.store.jobGet(dup2.id), null);
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 2 }));
  });

  test('dedup: a send whose id is stored answers that id, even when another job holds its key', async (h) => {
    const [holder] = await h.enqueue(keyed('k'));
    const [stored] = await h.enqueue({});
    assert.deepEqual(await h.store.jobsEnqueue([{ ...stored!, idempotency: { key: 'k', ttlMs: null } }]), [{ id: stored!.id, created: false }]);
    assert.equal((await h.get(holder!.id)).idempotencyKey, 'k');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1 }));
  });

  test('dedup: an id already stored counts as suppressed, and does not take the key it carries', async (h) => {
    const [stored] = await h.enqueue({});
    // Re-sent with a key: the stored job is left as it is (no key), so the key stays free.
    assert.deepEqual(await h.store.jobsEnqueue([{ ...stored, idempotency: { key: 'late', ttlMs: null } }]), [{ id: stored.id, created: false }]);
    assert.equal((await h.get(stored.id)).idempotencyKey, null);
    const fresh = newJob(keyed('late'));
    const again = newJob({ id: fresh.id });
    assert.deepEqual(await h.store.jobsEnqueue([fresh, again]), [
      { id: fresh.id, created: true },
      { id: fresh.id, created: false },
    ]);
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 2 }));
  });

  test('dedup: two handles racing to enqueue one key create exactly one job', async (h) => {
    const other = await h.openShared();
    const attempts = Array.from({ length: 20 }, (_, i) => ({ store: i % 2 === 0 ? h.store : other, job: newJob(keyed('race')) }));
    const answers = (await Promise.all(attempts.map(({ store, job }) => store.jobsEnqueue([job])))).flat();
    const created = answers.filter((a) => a.created);
    assert.equal(created.length, 1, 'exactly one enqueue creates');
    assert.deepEqual(new Set(answers.map((a) => a.id)), new Set([created[0].id]), 'every answer names the one created job');
    const [stats] = await h.store.queueStats();
    assert.equal(stats.counts.PENDING, 1);
    assert.deepEqual(await other.countersGet(), counters({ duplicates_suppressed_total: 19 }));
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 19 }), 'counters are summed over every handle');
  });
}

function releaseTests(test: TestFn): void {
  test('dedup: with ttlMs null the key is released by every final state', async (h) => {
    // SUCCESS, FAILURE, REVOKED by jobRevoke, REVOKED by expiry at reserve, FAILURE by lost deliveries.
    const keys = ['success', 'failure', 'revoked', 'expired', 'lost'];
    const [s, f, r, e, l] = await h.enqueue(
      keyed('success', null, { priority: 5 }),
      keyed('failure', null, { priority: 4 }),
      keyed('revoked', null, { priority: 3 }),
      keyed('expired', null, { priority: 9, expiresAt: T0 }),
      keyed('lost', null, { priority: 2, maxDeliveries: 1 }),
    );
    await h.store.jobRevoke({ id: r.id, terminate: false });
    h.advance(1);
    const [rs, rf, rl] = await h.reserve({ limit: 3 });
    assert.deepEqual([rs.id, rf.id, rl.id], [s.id, f.id, l.id]);
    await h.store.jobsSettle([complete(rs), fail(rf)]);
    assert.deepEqual(await h.loseLeases(), { requeued: [], failed: [l.id] });
    const states = await Promise.all([s, f, r, e, l].map(async (j) => (await h.get(j.id)).state));
    assert.deepEqual(states, ['SUCCESS', 'FAILURE', 'REVOKED', 'REVOKED', 'FAILURE']);
    const next = keys.map((k) => newJob(keyed(k)));
    assert.deepEqual(await h.store.jobsEnqueue(next), next.map((j) => ({ id: j.id, created: true })));
    assert.deepEqual(await h.counters(), counters());
  });

  test('dedup: after release the key is held by the new job, the latest enqueued with it', async (h) => {
    const [first] = await h.enqueue(keyed('k'));
    await h.completeOne();
    const second = newJob(keyed('k'));
    assert.deepEqual(await h.store.jobsEnqueue([second]), [{ id: second.id, created: true }]);
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: second.id, created: false }]);
    assert.equal((await h.get(first.id)).state, 'SUCCESS', 'the old holder is kept for its result TTL');
  });

  test('dedup: with ttlMs the key is held until finishedAt + ttlMs, then released', async (h) => {
    const [holder] = await h.enqueue(keyed('k', 10 * SECOND));
    h.advance(123);
    await h.completeOne();
    const finishedAt = (await h.get(holder.id)).finishedAt;
    assert.equal(finishedAt, T0 + 123);
    h.advance(10 * SECOND - 1); // 1 ms before finishedAt + ttlMs
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: holder.id, created: false }]);
    h.advance(1); // finishedAt + ttlMs is no longer ahead
    const next = newJob(keyed('k'));
    assert.deepEqual(await h.store.jobsEnqueue([next]), [{ id: next.id, created: true }]);
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1 }));
  });

  test('dedup: ttlMs counts from a FAILURE and a REVOKED too, and ttlMs 0 releases at once', async (h) => {
    const [failed, revoked, zero] = await h.enqueue(keyed('f', HOUR, { priority: 1 }), keyed('r', HOUR), keyed('z', 0, { priority: 2 }));
    const [rz, rf] = await h.reserve({ limit: 2 });
    assert.deepEqual([rz.id, rf.id], [zero.id, failed.id]);
    await h.store.jobsSettle([complete(rz), fail(rf)]);
    await h.store.jobRevoke({ id: revoked.id, terminate: false });
    h.advance(HOUR - 1);
    const z2 = newJob(keyed('z'));
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('f')), newJob(keyed('r')), z2]), [
      { id: failed.id, created: false },
      { id: revoked.id, created: false },
      { id: z2.id, created: true },
    ]);
    h.advance(1);
    const [f2, r2] = [newJob(keyed('f')), newJob(keyed('r'))];
    assert.deepEqual(await h.store.jobsEnqueue([f2, r2]), [
      { id: f2.id, created: true },
      { id: r2.id, created: true },
    ]);
  });

  test('dedup: the key is free once its holder is deleted past its result TTL', async (h) => {
    // The key's own TTL (a day) outlives the result (an hour): a deleted job holds nothing.
    const [holder] = await h.enqueue(keyed('k', DAY));
    await h.settle(complete(await h.reserveOne(), '"done"', HOUR));
    h.advance(HOUR - 1);
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: holder.id, created: false }]);
    h.advance(2);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    assert.equal(await h.store.jobGet(holder.id), null);
    const next = newJob(keyed('k'));
    assert.deepEqual(await h.store.jobsEnqueue([next]), [{ id: next.id, created: true }]);
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: next.id, created: false }]);
  });

  test('dedup: the key is free once its holder’s result TTL passed, before jobsDeleteExpired runs', async (h) => {
    // "held ... while that job exists (its result TTL has not passed)": the TTL decides, not the sweep.
    await h.enqueue(keyed('k', DAY));
    await h.settle(complete(await h.reserveOne(), '"done"', HOUR));
    h.advance(HOUR + 1);
    const next = newJob(keyed('k'));
    assert.deepEqual(await h.store.jobsEnqueue([next]), [{ id: next.id, created: true }]);
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: next.id, created: false }]);
  });

  test('dedup: the key is free once queuePurge deleted its waiting holder', async (h) => {
    const [holder] = await h.enqueue(keyed('k', DAY));
    assert.equal(await h.store.queuePurge('default'), 1);
    assert.equal(await h.store.jobGet(holder.id), null);
    const next = newJob(keyed('k'));
    assert.deepEqual(await h.store.jobsEnqueue([next]), [{ id: next.id, created: true }]);
  });

  test('dedup: a stale settlement does not release the key', async (h) => {
    const [holder] = await h.enqueue(keyed('k'));
    const old = await h.reserveOne();
    h.advance(LEASE_MS + 1);
    await h.store.jobsRecoverExpired();
    await h.reserveOne();
    assert.equal((await h.settle(complete(old))).ok, false);
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: holder.id, created: false }]);
  });

  test('dedup: a dead-letter jobRetry is refused while another job holds the key; once that one ends, the retried job holds it', async (h) => {
    const [old] = await h.enqueue(keyed('k'));
    await h.settle(fail(await h.reserveOne()));
    const latest = newJob(keyed('k'));
    assert.deepEqual(await h.store.jobsEnqueue([latest]), [{ id: latest.id, created: true }]);
    const before = await h.get(old.id);
    assert.equal(await h.store.jobRetry(old.id), 'key-held', 'two live jobs would share one key');
    assert.deepEqual(await h.get(old.id), before, 'the refused retry changed nothing');
    await h.completeOne(); // the latest ends, and with no TTL frees the key
    assert.equal(await h.store.jobRetry(old.id), 'retried');
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: old.id, created: false }], 'the retried job holds the key');
  });

  test('dedup: a dead-letter jobRetry is refused while a finished job holds the key for its TTL', async (h) => {
    const [old] = await h.enqueue(keyed('k'));
    await h.settle(fail(await h.reserveOne()));
    const latest = newJob(keyed('k', HOUR));
    await h.store.jobsEnqueue([latest]);
    await h.completeOne();
    assert.equal(await h.store.jobRetry(old.id), 'key-held');
    h.advance(HOUR + 1);
    assert.equal(await h.store.jobRetry(old.id), 'retried');
  });

  test('dedup: a dead-letter jobRetry makes its job hold the key again', async (h) => {
    // Still the latest job enqueued with the key, and no longer final.
    const [holder] = await h.enqueue(keyed('k'));
    await h.settle(fail(await h.reserveOne()));
    assert.equal(await h.store.jobRetry(holder.id), 'retried');
    assert.deepEqual(await h.store.jobsEnqueue([newJob(keyed('k'))]), [{ id: holder.id, created: false }]);
  });
}

export function dedupTests(test: TestFn): void {
  heldTests(test);
  releaseTests(test);
}
