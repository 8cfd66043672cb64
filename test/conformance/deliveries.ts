/**
 * Conformance: what a job shows of its deliveries — `jobProgress` (fenced like a settlement,
 * cleared at the next reserve) and `JobRecord.history` (the deliveries that ended without ending
 * the job: retried, lease lost, released; at most the last 50, oldest first).
 */
import assert from 'node:assert/strict';
import type { DeliveryRecord, JobProgress } from '../../src/store/store.js';
import {
  HOUR, LEASE_MS, SECOND, T0, complete, counters, fail, lost, ok, release, retry, sampleError, type TestFn,
} from './harness.js';
import type { ReservedJob } from '../../src/store/store.js';

/** The history entry of delivery `r`, started at `startedAt` by `worker-1`, ended at `endedAt`. */
function delivery(r: ReservedJob, startedAt: number, endedAt: number, outcome: DeliveryRecord['outcome'], error: DeliveryRecord['error'] = null): DeliveryRecord {
  return { token: r.token, attempt: r.attempt, worker: 'worker-1', startedAt, endedAt, outcome, error };
}

function progressTests(test: TestFn): void {
  test('progress: jobProgress records fraction, info and the store time on the running job', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    assert.equal((await h.get(job.id)).progress, null, 'a new delivery has no progress');
    h.advance(7);
    assert.deepEqual(await h.store.jobProgress({ id: job.id, token: r.token, fraction: 0.25, infoJson: '{"rows":250,"of":1000}' }), ok(job.id));
    assert.deepEqual((await h.get(job.id)).progress, { fraction: 0.25, infoJson: '{"rows":250,"of":1000}', at: T0 + 7 } satisfies JobProgress);
    h.advance(3);
    assert.deepEqual(await h.store.jobProgress({ id: job.id, token: r.token, fraction: 1, infoJson: null }), ok(job.id));
    assert.deepEqual((await h.get(job.id)).progress, { fraction: 1, infoJson: null, at: T0 + 10 }, 'the last report wins');
    assert.deepEqual(await h.counters(), counters());
  });

  test('progress: fraction 0 is kept as 0, not as no progress', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    await h.store.jobProgress({ id: job.id, token: r.token, fraction: 0, infoJson: '"starting"' });
    assert.deepEqual((await h.get(job.id)).progress, { fraction: 0, infoJson: '"starting"', at: T0 });
  });

  test('progress: kept after the job completes; cleared when the job is reserved again', async (h) => {
    const [done, again] = await h.enqueue({ priority: 1 }, {});
    const d = await h.reserveOne();
    await h.store.jobProgress({ id: done.id, token: d.token, fraction: 0.5, infoJson: null });
    await h.settle(complete(d));
    assert.deepEqual((await h.get(done.id)).progress, { fraction: 0.5, infoJson: null, at: T0 });
    const first = await h.reserveOne();
    await h.store.jobProgress({ id: again.id, token: first.token, fraction: 0.9, infoJson: '[1]' });
    await h.loseLeases();
    assert.deepEqual((await h.get(again.id)).progress?.fraction, 0.9, 'a lost lease keeps the last report until the next delivery');
    await h.reserveOne();
    assert.equal((await h.get(again.id)).progress, null);
  });

  test('progress: a stale token is refused, counted, and changes nothing', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.loseLeases();
    assert.deepEqual(await h.store.jobProgress({ id: job.id, token: first.token, fraction: 0.1, infoJson: null }), lost(job.id, 'stale'), 'lapsed, in line again');
    const second = await h.reserveOne();
    await h.store.jobProgress({ id: job.id, token: second.token, fraction: 0.3, infoJson: null });
    assert.deepEqual(await h.store.jobProgress({ id: job.id, token: first.token, fraction: 0.8, infoJson: null }), lost(job.id, 'stale'), 'a newer delivery');
    assert.deepEqual((await h.get(job.id)).progress, { fraction: 0.3, infoJson: null, at: h.now });
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 2 }));
  });

  test('progress: revoked, final and missing jobs refuse it, with terminate for a hard revoke', async (h) => {
    const [soft, hard, done] = await h.enqueue({}, {}, {});
    const [s, hd, d] = await h.reserve({ limit: 3 });
    await h.store.jobRevoke({ id: soft.id, terminate: false });
    await h.store.jobRevoke({ id: hard.id, terminate: true });
    await h.settle(complete(d));
    const report = (r: ReservedJob) => h.store.jobProgress({ id: r.id, token: r.token, fraction: 0.5, infoJson: null });
    assert.deepEqual(await report(s), lost(soft.id, 'revoked', false));
    assert.deepEqual(await report(hd), lost(hard.id, 'revoked', true));
    assert.deepEqual(await report(d), lost(done.id, 'final'));
    assert.deepEqual(await h.store.jobProgress({ id: 'ghost', token: 1, fraction: 0.5, infoJson: null }), lost('ghost', 'missing'));
    assert.equal((await h.get(done.id)).progress, null);
    assert.deepEqual(await h.counters(), counters());
  });
}

function historyTests(test: TestFn): void {
  test('history: one delivery that completes writes none', async (h) => {
    const [job] = await h.enqueue({});
    await h.completeOne();
    assert.deepEqual((await h.get(job.id)).history, []);
  });

  test('history: a failed delivery ends the job and writes none', async (h) => {
    const [job] = await h.enqueue({});
    await h.settle(fail(await h.reserveOne()));
    assert.deepEqual((await h.get(job.id)).history, []);
  });

  test('history: retried, lost and released deliveries, oldest first, each with its token, attempt, worker and times', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 5 });
    const r1 = await h.reserveOne();
    h.advance(SECOND);
    await h.settle(retry(r1, 0, sampleError('first try')));
    const retriedAt = h.now;
    h.advance(1);
    const r2 = await h.reserveOne({ workerId: 'worker-2' });
    const r2At = h.now;
    await h.loseLeases();
    const lostAt = h.now;
    const r3 = await h.reserveOne();
    const r3At = h.now;
    h.advance(5);
    await h.settle(release(r3));
    const releasedAt = h.now;
    const r4 = await h.reserveOne();
    await h.settle(complete(r4));
    const record = await h.get(job.id);
    assert.deepEqual(record.history, [
      delivery(r1, T0, retriedAt, 'retry', sampleError('first try')),
      { ...delivery(r2, r2At, lostAt, 'lost'), worker: 'worker-2' },
      delivery(r3, r3At, releasedAt, 'released'),
    ]);
    assert.deepEqual([r1.attempt, r2.attempt, r3.attempt], [1, 2, 2]);
    assert.equal(record.token, r4.token, 'the last delivery is the record itself');
  });

  test('history: a recovery that fails the job (WorkerLostError) adds nothing: that delivery is the record', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 2 });
    const first = await h.reserveOne();
    await h.loseLeases();
    const firstLostAt = h.now;
    const second = await h.reserveOne();
    assert.deepEqual(await h.loseLeases(), { requeued: [], failed: [job.id] });
    const record = await h.get(job.id);
    assert.deepEqual(record.history, [delivery(first, T0, firstLostAt, 'lost')]);
    assert.equal(record.token, second.token);
  });

  test('history: refused settlements add nothing', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.loseLeases();
    const second = await h.reserveOne();
    assert.deepEqual(await h.store.jobsSettle([retry(first, 0), release(first)]), [lost(job.id, 'stale'), lost(job.id, 'stale')]);
    assert.deepEqual((await h.get(job.id)).history.map((d) => d.outcome), ['lost']);
    await h.store.jobRevoke({ id: job.id, terminate: false });
    assert.deepEqual(await h.store.jobsSettle([retry(second, 0), release(second)]), [lost(job.id, 'revoked'), lost(job.id, 'revoked')]);
    assert.deepEqual((await h.get(job.id)).history.map((d) => d.outcome), ['lost']);
  });

  test('history: a dead-letter jobRetry keeps the history', async (h) => {
    const [job] = await h.enqueue({});
    const r1 = await h.reserveOne();
    await h.settle(retry(r1, 0));
    await h.settle(fail(await h.reserveOne()));
    assert.equal(await h.store.jobRetry(job.id), 'retried');
    assert.deepEqual((await h.get(job.id)).history, [delivery(r1, T0, T0, 'retry', sampleError())]);
  });

  test('history: keeps the last 50 deliveries', async (h) => {
    const [job] = await h.enqueue({});
    const tokens: number[] = [];
    for (let i = 0; i < 53; i++) {
      const r = await h.reserveOne();
      tokens.push(r.token);
      h.advance(1);
      await h.settle(release(r));
    }
    const history = (await h.get(job.id)).history;
    assert.equal(history.length, 50);
    assert.deepEqual(history.map((d) => d.token), tokens.slice(3));
    assert.deepEqual(history[49], { token: tokens[52], attempt: 1, worker: 'worker-1', startedAt: T0 + 52, endedAt: T0 + 53, outcome: 'released', error: null });
  });

  test('history: a job of a later attempt records the attempt its delivery ran', async (h) => {
    const [job] = await h.enqueue({});
    await h.settle(retry(await h.reserveOne(), HOUR));
    h.advance(HOUR);
    const r2 = await h.reserveOne();
    h.advance(LEASE_MS + 1);
    await h.store.jobsRecoverExpired();
    const history = (await h.get(job.id)).history;
    assert.deepEqual(history.map((d) => [d.outcome, d.attempt, d.token]), [['retry', 1, 1], ['lost', 2, r2.token]]);
    assert.equal(history[1].error, null);
  });
}

export function deliveryTests(test: TestFn): void {
  progressTests(test);
  historyTests(test);
}
