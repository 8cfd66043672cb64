/**
 * Conformance: callbacks fire at most once per job, ever — stale and repeated settlements,
 * dead-letter retries, callback ids already stored — and wherever they are bound: nested
 * callbacks, other queues (other shards under Redis Cluster), settle-and-reserve.
 */
import assert from 'node:assert/strict';
import type { ParentInfo } from '../../src/store/store.js';
import { LEASE_MS, T0, callback, complete, counters, fail, firedRecord, jobCount, lost, newJob, ok, pendingRecord, type TestFn } from './harness.js';

function onceTests(test: TestFn): void {
  test('callbacks: a stale settlement fires nothing; the current one fires once', async (h) => {
    const cb = callback('final');
    const [parent] = await h.enqueue({ callbacks: [cb] });
    const old = await h.reserveOne();
    await h.loseLeases();
    const current = await h.reserveOne();
    assert.deepEqual(await h.store.jobsSettle([fail(old), complete(old)]), [lost(parent.id, 'stale'), lost(parent.id, 'stale')]);
    assert.equal(await h.store.jobGet(cb.job.id), null);
    await h.settle(complete(current, '"now"'));
    assert.equal((await h.get(cb.job.id)).parent?.resultJson, '"now"');
    assert.deepEqual(await h.store.jobsSettle([complete(current, '"again"'), fail(current)]), [lost(parent.id, 'final'), lost(parent.id, 'final')]);
    assert.equal((await h.get(cb.job.id)).parent?.resultJson, '"now"');
    assert.equal(await jobCount(h), 2);
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 2 }), 'refused settlements are no final state');
  });

  test('callbacks: after a dead-letter jobRetry a second final state fires nothing and counts each skip', async (h) => {
    const [a, b] = [callback('final'), callback('final')];
    const [parent] = await h.enqueue({ callbacks: [a, b] });
    await h.settle(fail(await h.reserveOne()));
    const firedA = await h.store.jobGet(a.job.id);
    assert.equal(firedA?.parent?.state, 'FAILURE');
    assert.equal(await h.store.jobRetry(parent.id), 'retried');
    await h.completeOne();
    assert.equal(await jobCount(h), 3);
    assert.deepEqual(await h.store.jobGet(a.job.id), firedA);
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 2 }));
  });

  test('callbacks: a dead-letter job that then succeeds fires no success callback; the skipped ones count', async (h) => {
    // Pinned: "each callback it skips" is each callback of the new outcome (success + final here).
    const [onFailure, onFinal, onSuccess] = [callback('failure'), callback('final'), callback('success')];
    const [parent] = await h.enqueue({ callbacks: [onFailure, onFinal, onSuccess] });
    await h.settle(fail(await h.reserveOne()));
    await h.store.jobRetry(parent.id);
    await h.completeOne();
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
    assert.equal(await jobCount(h), 3);
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 2 }));
  });

  test('callbacks: a callback whose id is already stored is not enqueued again, and counts', async (h) => {
    const existing = newJob({ queue: 'callbacks', argsJson: '["mine"]' });
    await h.store.jobsEnqueue([existing]);
    const cb = callback('success', { id: existing.id, argsJson: '["theirs"]' }, true);
    await h.enqueue({ callbacks: [cb] });
    await h.completeOne();
    assert.deepEqual(await h.store.jobGet(existing.id), pendingRecord(existing, T0));
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 1 }));
  });

  test('callbacks: a callback whose id is stored in another queue is not enqueued, and counts', async (h) => {
    const existing = newJob({ queue: 'elsewhere', argsJson: '["mine"]' });
    await h.store.jobsEnqueue([existing]);
    const cb = callback('success', { id: existing.id, queue: 'callbacks', argsJson: '["theirs"]' }, true);
    await h.enqueue({ callbacks: [cb] });
    await h.completeOne();
    assert.deepEqual(await h.store.jobGet(existing.id), pendingRecord(existing, T0));
    assert.deepEqual(await h.reserve({ queues: ['callbacks'] }), []);
    assert.deepEqual(await h.counters(), counters({ callbacks_deduplicated_total: 1 }));
  });

  test('callbacks: a callback with callbacks of its own fires them when it finishes', async (h) => {
    const grandchild = callback('success', { task: 'test.grandchild', argsJson: '["g"]' }, true);
    const child = callback('success', { task: 'test.child', argsJson: '[]', callbacks: [grandchild] }, true);
    await h.enqueue({ callbacks: [child] });
    await h.completeOne('1');
    assert.deepEqual((await h.get(child.job.id)).callbacks, [grandchild]);
    assert.equal(await h.store.jobGet(grandchild.job.id), null);
    const running = await h.reserveOne({ queues: ['callbacks'] });
    assert.equal(running.argsJson, '[1]');
    h.advance(5);
    await h.settle(complete(running, '2'));
    const info: ParentInfo = { id: child.job.id, task: 'test.child', state: 'SUCCESS', resultJson: '2', error: null };
    assert.deepEqual(await h.store.jobGet(grandchild.job.id), firedRecord(grandchild.job, T0 + 5, info, '[2,"g"]'));
  });
}

function queueTests(test: TestFn): void {
  test('callbacks: a callback bound for another queue exists once the call that finished its parent returns', async (h) => {
    // Also under Redis Cluster, where the other queue may live on another shard (the outbox is relayed by the same call).
    const targets = ['q-alpha', 'q-beta', 'q-gamma', 'q-delta'];
    const cbs = targets.map((queue) => callback('final', { queue }));
    const [bySettle, byRevoke, , byRecover] = await h.enqueue(
      { priority: 2, callbacks: [cbs[0]] },
      { callbacks: [cbs[1]] },
      { priority: 3, expiresAt: T0, callbacks: [cbs[2]] }, // first in line, so the reserve meets it
      { priority: 1, maxDeliveries: 1, callbacks: [cbs[3]] },
    );
    await h.store.jobRevoke({ id: byRevoke.id, terminate: false });
    assert.notEqual(await h.store.jobGet(cbs[1].job.id), null, 'after jobRevoke');
    h.advance(1);
    const [s, r] = await h.reserve({ limit: 2 });
    assert.deepEqual([s.id, r.id], [bySettle.id, byRecover.id]);
    assert.notEqual(await h.store.jobGet(cbs[2].job.id), null, 'after the jobsReserve that expired its parent');
    await h.settle(complete(s));
    assert.notEqual(await h.store.jobGet(cbs[0].job.id), null, 'after jobsSettle');
    assert.deepEqual(await h.loseLeases(), { requeued: [], failed: [byRecover.id] });
    assert.notEqual(await h.store.jobGet(cbs[3].job.id), null, 'after jobsRecoverExpired');
    for (const [i, queue] of targets.entries()) {
      assert.deepEqual((await h.reserve({ queues: [queue] })).map((j) => j.id), [cbs[i].job.id], `reservable from ${queue}`);
    }
  });

  test('callbacks: one settle batch of 50 parents fires 50 callbacks spread over 5 queues, each once', async (h) => {
    const queues = ['q0', 'q1', 'q2', 'q3', 'q4'];
    const cbs = Array.from({ length: 50 }, (_, i) => callback('success', { queue: queues[i % 5], argsJson: `[${i}]` }, true));
    await h.enqueue(...cbs.map((cb) => ({ callbacks: [cb] })));
    const held = await h.reserve({ limit: 50 });
    assert.equal(held.length, 50);
    const outcomes = await h.store.jobsSettle(held.map((r, i) => complete(r, `"r${i}"`)));
    assert.ok(outcomes.every((o) => o.ok));
    const byParent = new Map(held.map((r, i) => [r.id, i]));
    for (const cb of cbs) {
      const record = await h.get(cb.job.id);
      assert.equal(record.argsJson, `["r${byParent.get(record.parent?.id ?? '')}",${cb.job.argsJson.slice(1)}`);
    }
    const stats = (await h.store.queueStats()).filter((q) => queues.includes(q.queue));
    assert.deepEqual(stats.map((q) => [q.queue, q.counts.PENDING]).sort(), queues.map((q) => [q, 10]));
    assert.deepEqual(await h.counters(), counters());
  });

  test('callbacks: settle-and-reserve reserves a callback its own settlement fired', async (h) => {
    const cb = callback('success', { queue: 'default', argsJson: '[]' }, true);
    const [parent] = await h.enqueue({ callbacks: [cb] });
    const held = await h.reserveOne();
    const { outcomes, jobs } = await h.store.jobsSettleAndReserve({
      settlements: [complete(held, '"r"')],
      reserve: { queues: ['default'], workerId: 'worker-1', limit: 5, leaseMs: LEASE_MS },
    });
    assert.deepEqual(outcomes, [ok(parent.id)]);
    assert.deepEqual(jobs.map((j) => [j.id, j.argsJson, j.parent?.id]), [[cb.job.id, '["r"]', parent.id]]);
  });
}

export function callbackOnceTests(test: TestFn): void {
  onceTests(test);
  queueTests(test);
}
