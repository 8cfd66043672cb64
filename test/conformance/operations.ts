/**
 * Conformance: what operators and beat see — the worker registry (`workersHeartbeat`,
 * `workersList`, `workerRemove`), schedule ticks (`scheduleTickGet`, `scheduleTickAdvance`),
 * `jobsList` paging and order (`offset`, `newestFirst`) and `QueueStats.nextDueAt`.
 */
import assert from 'node:assert/strict';
import type { WorkerInfo } from '../../src/store/store.js';
import { stats } from './admin.js';
import { HOUR, SECOND, T0, complete, descendingIds, idsOf, newJob, retry, type Harness, type TestFn } from './harness.js';

/** A worker's registration as its heartbeat sends it; `overrides` win. */
function worker(id: string, overrides: Partial<WorkerInfo> = {}): Omit<WorkerInfo, 'lastSeenAt'> {
  return {
    id,
    hostname: 'box-1',
    pid: 4242,
    queues: ['default', 'emails'],
    concurrency: 8,
    startedAt: T0 - HOUR,
    active: [{ id: 'job-1', task: 'email.send', startedAt: T0 - SECOND }],
    counts: { succeeded: 10, failed: 1 },
    ...overrides,
  };
}

function workerTests(test: TestFn): void {
  test('workers: a heartbeat registers the worker with lastSeenAt set to the store time', async (h) => {
    assert.deepEqual(await h.store.workersList(), []);
    h.advance(5);
    await h.store.workersHeartbeat({ worker: worker('w-1'), ttlMs: 30 * SECOND });
    assert.deepEqual(await h.store.workersList(), [{ ...worker('w-1'), lastSeenAt: T0 + 5 }]);
  });

  test('workers: the pool of a registration is kept whole; a registration without one has none', async (h) => {
    const pool = {
      kind: 'processes' as const, recycled: 2, crashed: 1, blocked: { count: 1, seconds: 4.25 },
      children: [{ slot: 1, pid: 4243, job: { id: 'job-1', task: 'email.send' }, jobs: 7, memoryMb: 61 }, { slot: 2, pid: 4250, job: null, jobs: 0, memoryMb: 48 }],
    };
    await h.store.workersHeartbeat({ worker: worker('pooled', { pool }), ttlMs: HOUR });
    await h.store.workersHeartbeat({ worker: worker('plain'), ttlMs: HOUR });
    const [plain, pooled] = await h.store.workersList();
    assert.deepEqual(pooled, { ...worker('pooled', { pool }), lastSeenAt: T0 });
    assert.equal('pool' in plain!, false);
  });

  test('workers: listed by id, and a heartbeat replaces the whole registration', async (h) => {
    for (const id of ['w-c', 'w-a', 'w-b']) await h.store.workersHeartbeat({ worker: worker(id), ttlMs: HOUR });
    h.advance(SECOND);
    const busy = worker('w-a', { active: [], counts: { succeeded: 11, failed: 1, retried: 2 }, queues: ['emails'] });
    await h.store.workersHeartbeat({ worker: busy, ttlMs: HOUR });
    const list = await h.store.workersList();
    assert.deepEqual(list.map((w) => w.id), ['w-a', 'w-b', 'w-c']);
    assert.deepEqual(list[0], { ...busy, lastSeenAt: T0 + SECOND });
    assert.equal(list[1].lastSeenAt, T0);
  });

  test('workers: listed until ttlMs passes without a heartbeat (at the expiry still listed)', async (h) => {
    await h.store.workersHeartbeat({ worker: worker('short'), ttlMs: 10 * SECOND });
    await h.store.workersHeartbeat({ worker: worker('long'), ttlMs: 60 * SECOND });
    h.advance(10 * SECOND);
    assert.deepEqual((await h.store.workersList()).map((w) => w.id), ['long', 'short']);
    h.advance(1);
    assert.deepEqual((await h.store.workersList()).map((w) => w.id), ['long']);
    await h.store.workersHeartbeat({ worker: worker('long'), ttlMs: 60 * SECOND });
    h.advance(55 * SECOND);
    assert.deepEqual((await h.store.workersList()).map((w) => [w.id, w.lastSeenAt]), [['long', T0 + 10 * SECOND + 1]], 'refreshed');
    await h.store.workersHeartbeat({ worker: worker('short'), ttlMs: 10 * SECOND });
    assert.deepEqual((await h.store.workersList()).map((w) => w.id), ['long', 'short'], 'an expired worker comes back with its next heartbeat');
  });

  test('workers: workerRemove forgets one worker; removing an unknown one is harmless', async (h) => {
    await h.store.workersHeartbeat({ worker: worker('a'), ttlMs: HOUR });
    await h.store.workersHeartbeat({ worker: worker('b'), ttlMs: HOUR });
    await h.store.workerRemove('a');
    await h.store.workerRemove('ghost');
    assert.deepEqual((await h.store.workersList()).map((w) => w.id), ['b']);
  });

  test('workers: a worker with no queues, jobs or counts round-trips with empty arrays and objects', async (h) => {
    const idle = worker('idle', { queues: [], active: [], counts: {} });
    await h.store.workersHeartbeat({ worker: idle, ttlMs: HOUR });
    assert.deepEqual(await h.store.workersList(), [{ ...idle, lastSeenAt: T0 }]);
  });

  test('workers: the registry is shared by every handle on the store', async (h) => {
    const other = await h.openShared();
    await other.workersHeartbeat({ worker: worker('elsewhere'), ttlMs: HOUR });
    assert.deepEqual((await h.store.workersList()).map((w) => w.id), ['elsewhere']);
  });
}

function tickTests(test: TestFn): void {
  test('ticks: scheduleTickGet answers null for a schedule that never fired', async (h) => {
    assert.equal(await h.store.scheduleTickGet('nightly'), null);
  });

  test('ticks: scheduleTickAdvance moves only forward and answers whether it moved', async (h) => {
    assert.equal(await h.store.scheduleTickAdvance({ schedule: 'nightly', tick: T0 }), true);
    assert.equal(await h.store.scheduleTickGet('nightly'), T0);
    assert.equal(await h.store.scheduleTickAdvance({ schedule: 'nightly', tick: T0 }), false, 'the same tick fires once');
    assert.equal(await h.store.scheduleTickAdvance({ schedule: 'nightly', tick: T0 - HOUR }), false, 'an older tick');
    assert.equal(await h.store.scheduleTickGet('nightly'), T0);
    assert.equal(await h.store.scheduleTickAdvance({ schedule: 'nightly', tick: T0 + 1 }), true);
    assert.equal(await h.store.scheduleTickGet('nightly'), T0 + 1);
  });

  test('ticks: schedules are independent, and shared by every handle', async (h) => {
    const other = await h.openShared();
    assert.equal(await h.store.scheduleTickAdvance({ schedule: 'a', tick: T0 + HOUR }), true);
    assert.equal(await other.scheduleTickAdvance({ schedule: 'b', tick: T0 }), true);
    assert.equal(await other.scheduleTickAdvance({ schedule: 'a', tick: T0 + HOUR }), false, 'another beat lost the race');
    assert.equal(await h.store.scheduleTickGet('b'), T0);
    assert.equal(await other.scheduleTickGet('a'), T0 + HOUR);
  });
}

function listPagingTests(test: TestFn): void {
  /** Five jobs enqueued 1 ms apart, oldest first. */
  async function fiveJobs(h: Harness): Promise<string[]> {
    const ids = descendingIds(5, 'page');
    for (const id of ids) {
      await h.store.jobsEnqueue([newJob({ id })]);
      h.advance(1);
    }
    return ids;
  }

  test('jobsList newestFirst answers the reverse order, and limit keeps the newest', async (h) => {
    const ids = await fiveJobs(h);
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 10, newestFirst: true })), [...ids].reverse());
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2, newestFirst: true })), [ids[4], ids[3]]);
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 10, newestFirst: false })), ids);
  });

  test('jobsList offset skips that many matching jobs, in either order', async (h) => {
    const ids = await fiveJobs(h);
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2, offset: 0 })), ids.slice(0, 2));
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2, offset: 2 })), ids.slice(2, 4));
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2, offset: 4 })), ids.slice(4));
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2, offset: 5 })), []);
    assert.deepEqual(idsOf(await h.store.jobsList({ limit: 2, offset: 1, newestFirst: true })), [ids[3], ids[2]]);
  });

  test('jobsList offset counts only jobs that match the filters', async (h) => {
    const ids = await fiveJobs(h);
    await h.store.jobsEnqueue([newJob({ queue: 'other' })]);
    await h.reserve({ limit: 2 }); // the two oldest are STARTED now
    const page = (offset: number, newestFirst = false) => h.store.jobsList({ states: ['PENDING'], queue: 'default', limit: 2, offset, newestFirst });
    assert.deepEqual(idsOf(await page(1)), ids.slice(3, 5));
    assert.deepEqual(idsOf(await page(1, true)), [ids[3], ids[2]]);
  });
}

/** queueStats by queue name (the contract leaves their order open). */
async function queueStats(h: Harness) {
  return (await h.store.queueStats()).sort((a, b) => a.queue.localeCompare(b.queue));
}

function nextDueTests(test: TestFn): void {
  test('queueStats nextDueAt is the run time of the job a reserve takes first: priority, then run time', async (h) => {
    await h.enqueue({ runAt: T0 - 5 * SECOND, priority: 0 }, { runAt: T0 - SECOND, priority: 5 }, { runAt: T0 - 2 * SECOND, priority: 5 });
    assert.deepEqual((await h.store.queueStats())[0], stats('default', { PENDING: 3 }, T0 - 2 * SECOND));
  });

  test('queueStats nextDueAt is null when nothing is due, and queues with no waiting jobs still show', async (h) => {
    await h.enqueue({ queue: 'later', runAt: T0 + HOUR }, { queue: 'busy' }, { queue: 'done' });
    await h.reserveOne({ queues: ['busy'] });
    await h.completeOne(null, { queues: ['done'] });
    assert.deepEqual(await queueStats(h), [
      stats('busy', { STARTED: 1 }, null),
      stats('done', { SUCCESS: 1 }, null),
      stats('later', { PENDING: 1 }, null),
    ]);
  });

  test('queueStats nextDueAt counts a scheduled job once its run time passes, with no reserve since', async (h) => {
    await h.enqueue({ runAt: T0 + HOUR }, { runAt: T0 + 2 * HOUR });
    h.advance(HOUR - 1);
    assert.equal((await h.store.queueStats())[0].nextDueAt, null);
    h.advance(1);
    assert.equal((await h.store.queueStats())[0].nextDueAt, T0 + HOUR, 'due at its run time exactly');
    h.advance(2 * HOUR);
    assert.equal((await h.store.queueStats())[0].nextDueAt, T0 + HOUR);
  });

  test('queueStats nextDueAt counts a RETRY job that came due', async (h) => {
    await h.enqueue({});
    await h.settle(retry(await h.reserveOne(), 10 * SECOND));
    assert.deepEqual((await h.store.queueStats())[0], stats('default', { RETRY: 1 }, null));
    h.advance(30 * SECOND);
    assert.deepEqual((await h.store.queueStats())[0], stats('default', { RETRY: 1 }, T0 + 10 * SECOND));
    await h.completeOne();
    assert.deepEqual((await h.store.queueStats())[0], stats('default', { SUCCESS: 1 }, null));
  });

  test('queueStats nextDueAt is per queue', async (h) => {
    await h.enqueue({ queue: 'qa', runAt: T0 - HOUR }, { queue: 'qb', runAt: T0 - SECOND });
    const all = await queueStats(h);
    assert.deepEqual(all.map((s) => [s.queue, s.nextDueAt]), [['qa', T0 - HOUR], ['qb', T0 - SECOND]]);
    await h.settle(complete(await h.reserveOne({ queues: ['qa'] })));
    assert.deepEqual((await queueStats(h)).map((s) => [s.queue, s.nextDueAt]), [['qa', null], ['qb', T0 - SECOND]]);
  });
}

export function operationTests(test: TestFn): void {
  workerTests(test);
  tickTests(test);
  listPagingTests(test);
  nextDueTests(test);
}
