/** Conformance: leases — `jobsRenew`, `jobsRecoverExpired` and `jobRevoke`. */
import assert from 'node:assert/strict';
import { DAY, LEASE_MS, SECOND, complete, fail, lost, ok, release, retry, type TestFn } from './harness.js';

function renewTests(test: TestFn): void {
  test('renew with the current token extends the lease from now', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    h.advance(20 * SECOND);
    assert.deepEqual(await h.store.jobsRenew({ leases: [r], leaseMs: 40_001 }), [ok(job.id)]);
    assert.equal((await h.get(job.id)).leaseExpiresAt, h.now + 40_001);
    assert.equal((await h.get(job.id)).token, r.token, 'renewing is not a delivery');
  });

  test('a renewed lease is not recovered at its old expiry', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    h.advance(20 * SECOND);
    await h.store.jobsRenew({ leases: [r], leaseMs: LEASE_MS });
    h.advance(LEASE_MS - 1); // well past the first lease, 1 ms before the renewed one
    assert.deepEqual(await h.store.jobsRecoverExpired(), { requeued: [], failed: [] });
    assert.equal((await h.get(job.id)).state, 'STARTED');
    h.advance(2);
    assert.deepEqual(await h.store.jobsRecoverExpired(), { requeued: [job.id], failed: [] });
  });

  test('renew answers stale, revoked, final and missing, one outcome per lease in order', async (h) => {
    const [stale, good, revokedHard, revokedSoft, done] = await h.enqueue({ priority: 5 }, {}, {}, {}, {});
    const oldLease = await h.reserveOne();
    assert.equal(oldLease.id, stale.id);
    await h.loseLeases();
    const leases = await h.reserve({ limit: 5 });
    const [, g, hard, soft, d] = leases;
    await h.store.jobRevoke({ id: revokedHard.id, terminate: true });
    await h.store.jobRevoke({ id: revokedSoft.id, terminate: false });
    await h.store.jobsSettle([complete(d)]);
    const before = (await h.get(good.id)).leaseExpiresAt;
    h.advance(SECOND);
    const outcomes = await h.store.jobsRenew({ leases: [soft, oldLease, { id: 'ghost', token: 1 }, g, d, hard], leaseMs: LEASE_MS });
    assert.deepEqual(outcomes, [
      lost(revokedSoft.id, 'revoked', false),
      lost(stale.id, 'stale'),
      lost('ghost', 'missing'),
      ok(good.id),
      lost(done.id, 'final'),
      lost(revokedHard.id, 'revoked', true),
    ]);
    assert.equal((await h.get(good.id)).leaseExpiresAt, (before ?? 0) + SECOND);
    assert.equal((await h.get(stale.id)).leaseExpiresAt, leases[0].leaseExpiresAt, 'a stale renewal extends nothing');
  });

  test('renew answers [] for no leases', async (h) => {
    assert.deepEqual(await h.store.jobsRenew({ leases: [], leaseMs: LEASE_MS }), []);
  });
}

function recoverTests(test: TestFn): void {
  test('recover puts a job whose lease passed back to PENDING and leaves live leases alone', async (h) => {
    const [lapsed, live] = await h.enqueue({}, {});
    await h.reserveOne();
    h.advance(10 * SECOND);
    await h.reserveOne();
    h.advance(LEASE_MS - 10 * SECOND + 1); // past the first lease, 10 s before the second ends
    assert.deepEqual(await h.store.jobsRecoverExpired(), { requeued: [lapsed.id], failed: [] });
    const record = await h.get(lapsed.id);
    assert.equal(record.state, 'PENDING');
    assert.equal(record.deliveries, 1, 'the lost delivery still counts');
    assert.equal(record.leaseExpiresAt, null);
    assert.equal((await h.get(live.id)).state, 'STARTED');
  });

  test('recover puts a job of a later attempt back to PENDING too (not RETRY)', async (h) => {
    const [job] = await h.enqueue({});
    await h.settle(retry(await h.reserveOne(), 0));
    assert.equal((await h.reserveOne()).attempt, 2);
    assert.deepEqual(await h.loseLeases(), { requeued: [job.id], failed: [] });
    const record = await h.get(job.id);
    assert.equal(record.state, 'PENDING');
    assert.deepEqual([record.attempt, record.deliveries], [2, 1]);
  });

  test('recover does nothing before the lease expires', async (h) => {
    await h.enqueue({});
    await h.reserveOne();
    h.advance(LEASE_MS - 1);
    assert.deepEqual(await h.store.jobsRecoverExpired(), { requeued: [], failed: [] });
  });

  test('after recovery the next delivery has a bigger token and one more delivery', async (h) => {
    await h.enqueue({});
    const first = await h.reserveOne();
    await h.loseLeases();
    const second = await h.reserveOne();
    assert.equal(second.id, first.id);
    assert.equal(second.token, first.token + 1);
    assert.equal(second.deliveries, first.deliveries + 1);
    assert.equal(second.attempt, 1);
  });

  test('after maxDeliveries lost deliveries the job fails with WorkerLostError', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 2 });
    await h.reserveOne();
    assert.deepEqual(await h.loseLeases(), { requeued: [job.id], failed: [] });
    await h.reserveOne();
    assert.deepEqual(await h.loseLeases(), { requeued: [], failed: [job.id] });
    const record = await h.get(job.id);
    assert.equal(record.state, 'FAILURE');
    assert.deepEqual(record.error, {
      type: 'WorkerLostError', code: 'WORKER_LOST',
      message: `job ${job.id} was delivered 2 times and its worker was lost each time (killed, crashed or frozen past its lease); giving up`,
    });
    assert.equal(record.finishedAt, h.now);
    assert.equal(record.leaseExpiresAt, null);
    assert.deepEqual(await h.reserve(), []);
  });

  test('lost deliveries are counted per attempt: a retry gets a fresh budget', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 2 });
    await h.reserveOne();
    await h.loseLeases();
    const second = await h.reserveOne();
    assert.equal(second.deliveries, 2);
    await h.settle(retry(second, 0));
    const third = await h.reserveOne();
    assert.deepEqual([third.attempt, third.deliveries], [2, 1]);
    assert.deepEqual(await h.loseLeases(), { requeued: [job.id], failed: [] });
  });

  test('recover is idempotent: a second run does nothing', async (h) => {
    const [a, b] = await h.enqueue({ maxDeliveries: 3 }, { maxDeliveries: 1 });
    await h.reserve();
    const first = await h.loseLeases();
    assert.deepEqual(first, { requeued: [a.id], failed: [b.id] });
    assert.deepEqual(await h.store.jobsRecoverExpired(), { requeued: [], failed: [] });
    h.advance(LEASE_MS * 10);
    assert.deepEqual(await h.store.jobsRecoverExpired(), { requeued: [], failed: [] });
    assert.equal((await h.get(a.id)).deliveries, 1);
  });

  test('recover leaves PENDING, RETRY, final and revoked jobs alone', async (h) => {
    const jobs = await h.enqueue({}, {}, {}, {}, {}, {});
    const [done, failed, retried, revoked, released] = await h.reserve({ limit: 5 });
    await h.store.jobsSettle([complete(done), fail(failed), release(released)]);
    await h.settle(retry(retried, 100 * LEASE_MS));
    await h.store.jobRevoke({ id: revoked.id, terminate: false });
    const before = await Promise.all(jobs.map((j) => h.get(j.id)));
    assert.deepEqual(await h.loseLeases(), { requeued: [], failed: [] });
    assert.deepEqual(await Promise.all(jobs.map((j) => h.get(j.id))), before);
  });
}

function revokeTests(test: TestFn): void {
  test('revoke a PENDING job: REVOKED, with why, never reserved', async (h) => {
    const [job] = await h.enqueue({});
    h.advance(3);
    assert.equal(await h.store.jobRevoke({ id: job.id, terminate: false, reason: 'customer cancelled' }), 'revoked');
    const record = await h.get(job.id);
    assert.equal(record.state, 'REVOKED');
    assert.deepEqual(record.error, { type: 'RevokedError', code: 'REVOKED', message: 'customer cancelled' }, 'a revoked job says why in error');
    assert.deepEqual(await h.reserve(), []);
  });

  test('revoke without a reason still records an error', async (h) => {
    const [job] = await h.enqueue({});
    assert.equal(await h.store.jobRevoke({ id: job.id, terminate: true }), 'revoked');
    assert.deepEqual((await h.get(job.id)).error, { type: 'RevokedError', code: 'REVOKED', message: 'revoked' });
  });

  test('revoke a STARTED job: its holder loses the lease at once', async (h) => {
    const [soft, hard] = await h.enqueue({}, {});
    const [s, hd] = await h.reserve();
    assert.equal(await h.store.jobRevoke({ id: soft.id, terminate: false }), 'revoked');
    assert.equal(await h.store.jobRevoke({ id: hard.id, terminate: true, reason: 'stop it' }), 'revoked');
    assert.equal((await h.get(soft.id)).state, 'REVOKED');
    assert.deepEqual(await h.store.jobsSettle([complete(s), fail(hd)]), [lost(soft.id, 'revoked', false), lost(hard.id, 'revoked', true)]);
    const record = await h.get(soft.id);
    assert.equal(record.state, 'REVOKED');
    assert.equal(record.resultJson, null);
    assert.equal((await h.get(hard.id)).state, 'REVOKED');
  });

  test('revoke answers final for final jobs and missing for unknown ids', async (h) => {
    const [a, b, c] = await h.enqueue({}, {}, {});
    const [ra, rb] = await h.reserve({ limit: 2 });
    await h.store.jobsSettle([complete(ra), fail(rb)]);
    await h.store.jobRevoke({ id: c.id, terminate: false });
    assert.equal(await h.store.jobRevoke({ id: a.id, terminate: false }), 'final');
    assert.equal(await h.store.jobRevoke({ id: b.id, terminate: true }), 'final');
    assert.equal(await h.store.jobRevoke({ id: c.id, terminate: false }), 'final');
    assert.equal(await h.store.jobRevoke({ id: 'ghost', terminate: false }), 'missing');
    assert.equal((await h.get(a.id)).state, 'SUCCESS');
    assert.equal((await h.get(b.id)).state, 'FAILURE');
  });

  test('revoke a RETRY job: REVOKED, and it never comes due', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    await h.settle(retry(r, SECOND));
    assert.equal(await h.store.jobRevoke({ id: job.id, terminate: false }), 'revoked');
    h.advance(2 * SECOND);
    assert.deepEqual(await h.reserve(), []);
    assert.equal((await h.get(job.id)).state, 'REVOKED');
  });

  test('revoked jobs are deleted by jobsDeleteExpired after revokedTtlMs (24 h by default)', async (h) => {
    const [pending, running] = await h.enqueue({}, {});
    const [, r] = await h.reserve({ limit: 2 });
    assert.equal(r.id, running.id);
    h.advance(5);
    await h.store.jobRevoke({ id: pending.id, terminate: false });
    await h.store.jobRevoke({ id: running.id, terminate: true });
    h.advance(DAY - 1);
    assert.equal(await h.store.jobsDeleteExpired(), 0);
    assert.equal((await h.get(pending.id)).state, 'REVOKED');
    h.advance(2);
    assert.equal(await h.store.jobsDeleteExpired(), 2);
    assert.equal(await h.store.jobGet(pending.id), null);
    assert.equal(await h.store.jobGet(running.id), null);
  });
}

export function leaseTests(test: TestFn): void {
  renewTests(test);
  recoverTests(test);
  revokeTests(test);
}
