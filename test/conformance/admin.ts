/** Conformance: what operators do — `jobRetry`, `jobsDeleteExpired`, `jobsList`, `queuePurge`, `queueStats`. */
import assert from 'node:assert/strict';
import { JOB_STATES, type JobState } from '../../src/states.js';
import type { QueueStats } from '../../src/store/store.js';
import type { Harness } from './harness.js';
import { DAY, HOUR, T0, complete, descendingIds, fail, idsOf, newJob, retry, sampleError, sorted, type TestFn } from './harness.js';

/** Stats of one queue: every state present, zeros included. */
export function stats(queue: string, counts: Partial<Record<JobState, number>>, nextDueAt: number | null = null): QueueStats {
  return { queue, counts: Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as Record<JobState, number>, nextDueAt };
}

/**
 * Seven jobs in `queue`, one per state plus a second PENDING one:
 * [success, failure, retry, started, revoked, pending, pending2].
 */
async function oneOfEachState(h: Harness, queue: string): Promise<string[]> {
  const jobs = await h.enqueue(...Array.from({ length: 7 }, () => ({ queue })));
  const [s, f, r] = await h.reserve({ queues: [queue], limit: 4 });
  await h.store.jobsSettle([complete(s), fail(f), retry(r, HOUR)]);
  await h.store.jobRevoke({ id: jobs[4].id, terminate: false });
  return idsOf(jobs);
}

function retryTests(test: TestFn): void {
  test('a FAILURE job is a dead letter: listed, never deleted by jobsDeleteExpired', async (h) => {
    const [job] = await h.enqueue({});
    await h.settle(fail(await h.reserveOne(), sampleError('poison')));
    h.advance(365 * DAY);
    assert.equal(await h.store.jobsDeleteExpired(), 0);
    assert.deepEqual((await h.get(job.id)).error, sampleError('poison'));
    assert.deepEqual(idsOf(await h.store.jobsList({ states: ['FAILURE'], limit: 10 })), [job.id]);
  });

  test('jobRetry puts a FAILURE job back to PENDING with a fresh budget', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 5 });
    await h.reserveOne();
    await h.loseLeases();
    const r = await h.reserveOne();
    await h.settle(retry(r, 0));
    const last = await h.reserveOne();
    assert.equal(last.attempt, 2);
    await h.settle(fail(last));
    assert.equal(await h.store.jobRetry(job.id), 'retried');
    const record = await h.get(job.id);
    assert.equal(record.state, 'PENDING');
    assert.equal(record.attempt, 1);
    assert.equal(record.deliveries, 0);
    assert.equal(record.leaseExpiresAt, null);
    const again = await h.reserveOne();
    assert.equal(again.id, job.id);
    assert.ok(again.token > last.token, `token ${again.token} must exceed ${last.token}`);
    assert.deepEqual([again.attempt, again.deliveries], [1, 1]);
  });

  test('jobRetry puts a REVOKED job back to PENDING, reservable at once', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.store.jobRevoke({ id: job.id, terminate: true });
    h.advance(HOUR);
    assert.equal(await h.store.jobRetry(job.id), 'retried');
    assert.equal((await h.get(job.id)).state, 'PENDING');
    const again = await h.reserveOne();
    assert.ok(again.token > first.token);
    assert.deepEqual(await h.store.jobsSettle([complete(first)]), [{ id: job.id, ok: false, reason: 'stale', terminate: false }]);
  });

  test('jobRetry answers not-final for waiting or running jobs and missing for unknown ids', async (h) => {
    const [pending, started, retrying] = await h.enqueue({ priority: -1 }, { priority: 1 }, {});
    await h.reserveOne();
    await h.settle(retry(await h.reserveOne(), HOUR));
    assert.equal(await h.store.jobRetry(pending.id), 'not-final');
    assert.equal(await h.store.jobRetry(started.id), 'not-final');
    assert.equal(await h.store.jobRetry(retrying.id), 'not-final');
    assert.equal(await h.store.jobRetry('ghost'), 'missing');
    assert.equal((await h.get(pending.id)).state, 'PENDING');
    assert.equal((await h.get(started.id)).state, 'STARTED');
    assert.equal((await h.get(retrying.id)).state, 'RETRY');
  });

  test('jobsDeleteExpired never deletes waiting or running jobs', async (h) => {
    const ids = await oneOfEachState(h, 'default');
    h.advance(DAY / 2);
    assert.equal(await h.store.jobsDeleteExpired(), 1, 'only the SUCCESS job, whose 1 h TTL passed');
    h.advance(365 * DAY);
    assert.equal(await h.store.jobsDeleteExpired(), 1, 'then the REVOKED job');
    const left = await Promise.all(ids.map((id) => h.store.jobGet(id)));
    assert.deepEqual(left.map((j) => j?.state ?? null), [null, 'FAILURE', 'RETRY', 'STARTED', null, 'PENDING', 'PENDING']);
  });
}

function listTests(test: TestFn): void {
  test('jobsList answers oldest first, enqueue order on ties, whatever priority or runAt', async (h) => {
    const ids = descendingIds(4, 'list');
    await h.store.jobsEnqueue([newJob({ id: ids[0], priority: -5, runAt: T0 + HOUR })]);
    h.advance(1);
    await h.store.jobsEnqueue([newJob({ id: ids[1], priority: 9, runAt: T0 }), newJob({ id: ids[2], priority: 1, runAt: T0 + 2 * HOUR })]);
    h.advance(1);
    await h.store.jobsEnqueue([newJob({ id: ids[3], priority: 3, runAt: T0 - HOUR })]);
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 10 })), ids);
  });

  test('jobsList limit keeps the oldest', async (h) => {
    const ids = descendingIds(5, 'limit');
    for (const id of ids) {
      await h.store.jobsEnqueue([newJob({ id })]);
      h.advance(1);
    }
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2 })), ids.slice(0, 2));
  });

  test('jobsList filters by states', async (h) => {
    const [success, failure, retrying, started, revoked, pending, pending2] = await oneOfEachState(h, 'default');
    const list = async (states: JobState[]) => sorted(idsOf(await h.store.jobsList({ states, limit: 100 })));
    assert.deepEqual(await list(['PENDING']), sorted([pending, pending2]));
    assert.deepEqual(await list(['SUCCESS', 'FAILURE']), sorted([success, failure]));
    assert.deepEqual(await list(['RETRY', 'STARTED', 'REVOKED']), sorted([retrying, started, revoked]));
    assert.equal((await h.store.jobsList({ limit: 100 })).length, 7, 'no states filter lists every state');
  });

  test('jobsList filters by queue and task, combined with states', async (h) => {
    const [a1, a2, b1] = await h.enqueue({ queue: 'qa', task: 't1' }, { queue: 'qa', task: 't2' }, { queue: 'qb', task: 't1' });
    await h.reserveOne({ queues: ['qa'] });
    const list = async (p: { queue?: string; task?: string; states?: JobState[] }) => idsOf(await h.store.jobsList({ ...p, limit: 100 }));
    assert.deepEqual(await list({ queue: 'qa' }), [a1.id, a2.id]);
    // Across queues, jobs enqueued in the same millisecond have no set order (a queue-sharded
    // store keeps FIFO per queue only): compare as a set.
    assert.deepEqual(sorted(await list({ task: 't1' })), sorted([a1.id, b1.id]));
    assert.deepEqual(await list({ queue: 'qa', task: 't1' }), [a1.id]);
    assert.deepEqual(await list({ queue: 'qa', states: ['PENDING'] }), [a2.id]);
    assert.deepEqual(await list({ queue: 'nope' }), []);
  });

  test('jobsList runAfter keeps jobs whose run time is strictly after it', async (h) => {
    const [, atEdge, after, later] = await h.enqueue({ runAt: T0 }, { runAt: T0 + 1_000 }, { runAt: T0 + 1_001 }, { runAt: T0 + DAY });
    assert.deepEqual(idsOf(await h.store.jobsList({ runAfter: T0 + 1_000, limit: 100 })), [after.id, later.id]);
    assert.deepEqual(idsOf(await h.store.jobsList({ runAfter: T0 + 999, limit: 100 })), [atEdge.id, after.id, later.id]);
  });
}

function queueTests(test: TestFn): void {
  test('queuePurge deletes only the PENDING and RETRY jobs of that queue and answers how many', async (h) => {
    const ids = await oneOfEachState(h, 'doomed');
    const [other] = await h.enqueue({ queue: 'kept' });
    assert.equal(await h.store.queuePurge('doomed'), 3);
    const states = await Promise.all(ids.map(async (id) => (await h.store.jobGet(id))?.state ?? null));
    assert.deepEqual(states, ['SUCCESS', 'FAILURE', null, 'STARTED', 'REVOKED', null, null]);
    assert.equal((await h.get(other.id)).state, 'PENDING');
    assert.equal(await h.store.queuePurge('doomed'), 0);
    assert.equal(await h.store.queuePurge('no-such-queue'), 0);
  });

  test('queueStats counts every state of every queue, zeros included', async (h) => {
    await oneOfEachState(h, 'qa');
    await h.enqueue({ queue: 'qb' });
    const all = (await h.store.queueStats()).sort((x, y) => x.queue.localeCompare(y.queue));
    assert.deepEqual(all, [
      stats('qa', { PENDING: 2, STARTED: 1, RETRY: 1, SUCCESS: 1, FAILURE: 1, REVOKED: 1 }, T0),
      stats('qb', { PENDING: 1 }, T0),
    ]);
  });

  test('queueStats leaves out a queue once it has no jobs', async (h) => {
    await h.enqueue({ queue: 'gone' }, { queue: 'stays' });
    await h.store.queuePurge('gone');
    assert.deepEqual(await h.store.queueStats(), [stats('stays', { PENDING: 1 }, T0)]);
  });
}

export function adminTests(test: TestFn): void {
  retryTests(test);
  listTests(test);
  queueTests(test);
}
