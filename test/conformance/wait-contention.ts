/**
 * Conformance: `waitForChange` (the only tests that wait on real time, ≤ 300 ms each) and
 * contention between two handles on the same storage.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../src/store/store.js';
import { LEASE_MS, newJob, type TestFn } from './harness.js';

/** How long a wake-up may take, in real time. */
const WAKE_MS = 300;

/** Resolve 'woke' if `wait` settles within `ms` of real time, else 'timed out'. */
async function within(wait: Promise<void>, ms: number): Promise<'woke' | 'timed out'> {
  const guard = new AbortController();
  try {
    return await Promise.race([wait.then(() => 'woke' as const), sleep(ms, 'timed out' as const, { signal: guard.signal })]);
  } finally {
    guard.abort();
  }
}

function waitTests(test: TestFn): void {
  test('waitForChange resolves by its timeout when nothing happens', async (h) => {
    assert.equal(await within(h.store.waitForChange({ timeoutMs: 50 }), WAKE_MS), 'woke');
  });

  test('waitForChange resolves early when a job is enqueued through the same store', async (h) => {
    const wait = h.store.waitForChange({ timeoutMs: 2_000, queues: ['default'] });
    await h.enqueue({});
    assert.equal(await within(wait, WAKE_MS), 'woke');
  });

  test('waitForChange resolves early when its signal aborts', async (h) => {
    const abort = new AbortController();
    const wait = h.store.waitForChange({ timeoutMs: 2_000, signal: abort.signal });
    abort.abort();
    assert.equal(await within(wait, WAKE_MS), 'woke');
  });

  test('waitForChange resolves at once when its signal is already aborted', async (h) => {
    assert.equal(await within(h.store.waitForChange({ timeoutMs: 2_000, signal: AbortSignal.abort() }), WAKE_MS), 'woke');
  });

  test('waitForChange resolves early when a scheduled job of a watched queue comes due', async (h) => {
    // The store's clock is frozen; it must schedule its wake-up from `runAt - clock()`.
    await h.enqueue({ runAt: h.now + 100 });
    assert.equal(await within(h.store.waitForChange({ timeoutMs: 2_000, queues: ['default'] }), WAKE_MS), 'woke');
  });
}

/** Reserve from `store` in batches until nothing is left, recording every id taken. */
async function drain(store: Store, workerId: string, taken: string[]): Promise<void> {
  for (;;) {
    const jobs = await store.jobsReserve({ queues: ['contended'], workerId, limit: 25, leaseMs: LEASE_MS });
    if (jobs.length === 0) return;
    for (const job of jobs) taken.push(job.id);
  }
}

function contentionTests(test: TestFn): void {
  test('two handles on one store reserve 2,000 jobs concurrently, each exactly once', async (h) => {
    const other = await h.openShared();
    const jobs = Array.from({ length: 2_000 }, () => newJob({ queue: 'contended' }));
    for (let i = 0; i < jobs.length; i += 500) await h.store.jobsEnqueue(jobs.slice(i, i + 500));
    assert.deepEqual(await other.jobGet(jobs[1_999].id), await h.store.jobGet(jobs[1_999].id), 'the second handle sees the same store');
    const taken: string[][] = [[], [], [], [], [], []];
    await Promise.all([
      drain(h.store, 'a1', taken[0]),
      drain(other, 'b1', taken[1]),
      drain(h.store, 'a2', taken[2]),
      drain(other, 'b2', taken[3]),
      drain(h.store, 'a3', taken[4]),
      drain(other, 'b3', taken[5]),
    ]);
    const all = taken.flat();
    const counts = new Map<string, number>();
    for (const id of all) counts.set(id, (counts.get(id) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual(twice, [], 'no job is reserved twice');
    assert.equal(all.length, jobs.length);
    assert.deepEqual(new Set(all), new Set(jobs.map((j) => j.id)));
    const [stats] = await other.queueStats();
    assert.equal(stats.counts.STARTED, 2_000);
    assert.equal(stats.counts.PENDING, 0);
  });

  test('a settlement through one handle is fenced against a delivery made through the other', async (h) => {
    const other = await h.openShared();
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.loseLeases();
    const [second] = await h.reserve({ workerId: 'w2' }, other);
    assert.equal(second.token, first.token + 1);
    assert.deepEqual(await h.store.jobsSettle([{ kind: 'complete', id: job.id, token: first.token, resultJson: '"old"', resultTtlMs: LEASE_MS }]), [
      { id: job.id, ok: false, reason: 'stale', terminate: false },
    ]);
    assert.deepEqual(await other.jobsSettle([{ kind: 'complete', id: job.id, token: second.token, resultJson: '"new"', resultTtlMs: LEASE_MS }]), [
      { id: job.id, ok: true },
    ]);
    assert.equal((await h.get(job.id)).resultJson, '"new"');
  });
}

export function waitAndContentionTests(test: TestFn): void {
  waitTests(test);
  contentionTests(test);
}
