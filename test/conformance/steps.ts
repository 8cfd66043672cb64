/**
 * Conformance: steps — `jobStepGet`, `jobStepPut`, `jobSteps` — and the fencing counters
 * `steps_replayed_total` and `stale_writes_refused_total` (settle and renew included).
 *
 * Terminology: a *step* is a named result a task records with `ctx.step` so a later delivery or
 * attempt reads it instead of running the step again.
 */
import assert from 'node:assert/strict';
import { HOUR, LEASE_MS, SECOND, T0, complete, counters, fail, lost, newJob, ok, release, retry, stepLost, stepOk, type TestFn } from './harness.js';

function readWriteTests(test: TestFn): void {
  test('steps: get of an unrecorded step answers ok with null and counts no replay', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: r.token, name: 'charge' }), stepOk(null));
    assert.deepEqual(await h.store.jobSteps(job.id), []);
    assert.deepEqual(await h.counters(), counters());
  });

  test('steps: put records the result, and get answers it and counts a replay', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    h.advance(42);
    const result = '{"charge":"ch_1","amount":1.50,"e":[],"o":{}}';
    assert.deepEqual(await h.store.jobStepPut({ id: job.id, token: r.token, name: 'charge', resultJson: result }), stepOk(result));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: r.token, name: 'charge' }), stepOk(result));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: r.token, name: 'other' }), stepOk(null));
    assert.deepEqual(await h.store.jobSteps(job.id), [{ name: 'charge', resultJson: result, token: r.token, recordedAt: T0 + 42 }]);
    assert.deepEqual(await h.counters(), counters({ steps_replayed_total: 1 }));
  });

  test('steps: the first put wins; a second put answers the recorded result and changes nothing', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: r.token, name: 's', resultJson: '"first"' });
    h.advance(SECOND);
    assert.deepEqual(await h.store.jobStepPut({ id: job.id, token: r.token, name: 's', resultJson: '"second"' }), stepOk('"first"'));
    assert.deepEqual(await h.counters(), counters(), 'a put that finds the step recorded ran it again: no replay');
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: r.token, name: 's' }), stepOk('"first"'));
    assert.deepEqual(await h.store.jobSteps(job.id), [{ name: 's', resultJson: '"first"', token: r.token, recordedAt: T0 }]);
  });

  test('steps: a step result of null is recorded as the text null, not as unrecorded', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepPut({ id: job.id, token: r.token, name: 'void', resultJson: 'null' }), stepOk('null'));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: r.token, name: 'void' }), stepOk('null'));
    assert.deepEqual(await h.counters(), counters({ steps_replayed_total: 1 }));
  });

  test('steps: jobSteps lists name, result, token and time in recording order', async (h) => {
    const [job] = await h.enqueue({ maxDeliveries: 5 });
    const first = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: first.token, name: 'zeta', resultJson: '1' });
    h.advance(5);
    await h.store.jobStepPut({ id: job.id, token: first.token, name: 'alpha', resultJson: '2' });
    await h.loseLeases();
    const second = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: second.token, name: 'zeta', resultJson: '"ignored"' });
    await h.store.jobStepPut({ id: job.id, token: second.token, name: 'mid', resultJson: '3' });
    assert.deepEqual(await h.store.jobSteps(job.id), [
      { name: 'zeta', resultJson: '1', token: first.token, recordedAt: T0 },
      { name: 'alpha', resultJson: '2', token: first.token, recordedAt: T0 + 5 },
      { name: 'mid', resultJson: '3', token: second.token, recordedAt: T0 + 5 + LEASE_MS + 1 },
    ]);
    assert.deepEqual(await h.store.jobSteps('ghost'), []);
  });

  test('steps: concurrent puts of one step through two handles: one wins, both answer it', async (h) => {
    const other = await h.openShared();
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? h.store : other).jobStepPut({ id: job.id, token: r.token, name: 's', resultJson: String(i) })),
    );
    const [winner] = await h.store.jobSteps(job.id);
    assert.deepEqual(answers, answers.map(() => stepOk(winner.resultJson)));
    assert.equal((await h.store.jobSteps(job.id)).length, 1);
  });

  test('steps: names and results round-trip exactly', async (h) => {
    // Colons, braces, unicode and precise numbers: nothing may be split on or re-encoded (an
    // empty name is refused: bad-input.ts).
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    const steps = [
      ['a:b:c', '"x:y:z"'],
      ['{tag} 🌍 é', '{"n":1.2345678901234567890,"f":1.50,"e":[],"o":{}}'],
      [' ', '""'],
    ] as const;
    for (const [name, resultJson] of steps) await h.store.jobStepPut({ id: job.id, token: r.token, name, resultJson });
    for (const [name, resultJson] of steps) assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: r.token, name }), stepOk(resultJson), name);
    assert.deepEqual(
      (await h.store.jobSteps(job.id)).map((s) => [s.name, s.resultJson]),
      steps.map(([n, v]) => [n, v]),
    );
  });

  test('steps: are per job', async (h) => {
    const [a, b] = await h.enqueue({}, {});
    const [ra, rb] = await h.reserve();
    await h.store.jobStepPut({ id: a.id, token: ra.token, name: 's', resultJson: '"a"' });
    assert.deepEqual(await h.store.jobStepGet({ id: b.id, token: rb.token, name: 's' }), stepOk(null));
    assert.deepEqual(await h.store.jobSteps(b.id), []);
  });
}

function fencingTests(test: TestFn): void {
  test('steps: a put with a stale token is refused, records nothing, and counts', async (h) => {
    const [job] = await h.enqueue({});
    const old = await h.reserveOne();
    await h.loseLeases();
    assert.deepEqual(await h.store.jobStepPut({ id: job.id, token: old.token, name: 's', resultJson: '"old"' }), stepLost('stale'), 'before redelivery');
    const current = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepPut({ id: job.id, token: old.token, name: 's', resultJson: '"old"' }), stepLost('stale'), 'after redelivery');
    assert.deepEqual(await h.store.jobSteps(job.id), []);
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: current.token, name: 's' }), stepOk(null));
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 2 }));
  });

  test('steps: after a retry settlement its token is stale, before the next delivery too', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.settle(retry(first, SECOND));
    assert.deepEqual(await h.store.jobStepPut({ id: job.id, token: first.token, name: 's', resultJson: '1' }), stepLost('stale'));
    assert.deepEqual(await h.store.jobSteps(job.id), []);
  });

  test('steps: a get with a stale token is refused, even of a recorded step, and counts', async (h) => {
    // Pinned: a stale ctx.step is refused at its fenced read and never reaches its put, so the
    // read's refusal is the one that counts in stale_writes_refused_total ("settle, renew, step").
    const [job] = await h.enqueue({});
    const old = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: old.token, name: 's', resultJson: '"v"' });
    await h.loseLeases();
    const current = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: old.token, name: 's' }), stepLost('stale'));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: current.token, name: 's' }), stepOk('"v"'));
    assert.deepEqual(await h.counters(), counters({ steps_replayed_total: 1, stale_writes_refused_total: 1 }));
  });

  test('steps: get and put answer final, revoked and missing as a settlement would', async (h) => {
    const [done, soft, hard] = await h.enqueue({}, {}, {});
    const [rd, rs, rh] = await h.reserve();
    await h.settle(complete(rd));
    await h.store.jobRevoke({ id: soft.id, terminate: false });
    await h.store.jobRevoke({ id: hard.id, terminate: true });
    const cases = [
      [{ id: done.id, token: rd.token }, stepLost('final')],
      [{ id: soft.id, token: rs.token }, stepLost('revoked', false)],
      [{ id: hard.id, token: rh.token }, stepLost('revoked', true)],
      [{ id: 'ghost', token: 1 }, stepLost('missing')],
    ] as const;
    for (const [lease, outcome] of cases) {
      assert.deepEqual(await h.store.jobStepGet({ ...lease, name: 's' }), outcome, `get ${lease.id}`);
      assert.deepEqual(await h.store.jobStepPut({ ...lease, name: 's', resultJson: '1' }), outcome, `put ${lease.id}`);
    }
    assert.deepEqual(await h.counters(), counters(), 'final, revoked and missing are not stale');
    assert.deepEqual(await h.store.jobSteps(done.id), []);
  });

  test('stale_writes_refused_total counts stale settlements and renewals, not revoked, final or missing ones', async (h) => {
    const [stale, revoked, done] = await h.enqueue({ priority: 2 }, { priority: 1 }, {});
    const old = await h.reserveOne();
    assert.equal(old.id, stale.id);
    await h.loseLeases();
    const [current, rr, rd] = await h.reserve({ limit: 3 });
    await h.store.jobRevoke({ id: revoked.id, terminate: false });
    await h.settle(complete(rd));
    assert.deepEqual(await h.store.jobsRenew({ leases: [old, rr, rd, { id: 'ghost', token: 1 }], leaseMs: LEASE_MS }), [
      lost(stale.id, 'stale'),
      lost(revoked.id, 'revoked'),
      lost(done.id, 'final'),
      lost('ghost', 'missing'),
    ]);
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 1 }));
    assert.deepEqual(await h.store.jobsSettle([fail(old), complete(rr), complete(rd), release(old), complete({ id: 'ghost', token: 1 })]), [
      lost(stale.id, 'stale'),
      lost(revoked.id, 'revoked'),
      lost(done.id, 'final'),
      lost(stale.id, 'stale'),
      lost('ghost', 'missing'),
    ]);
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 3 }));
    const { outcomes } = await h.store.jobsSettleAndReserve({ settlements: [retry(old, 0)], reserve: null });
    assert.deepEqual(outcomes, [lost(stale.id, 'stale')]);
    assert.deepEqual(await h.settle(complete(current)), ok(stale.id));
    assert.deepEqual(await h.counters(), counters({ stale_writes_refused_total: 4 }));
  });
}

function lifecycleTests(test: TestFn): void {
  test('steps: survive a retry settlement; the next attempt reads them', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: first.token, name: 'charge', resultJson: '"ch_1"' });
    await h.settle(retry(first, SECOND));
    h.advance(SECOND);
    const second = await h.reserveOne();
    assert.equal(second.attempt, 2);
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: second.token, name: 'charge' }), stepOk('"ch_1"'));
    assert.deepEqual(await h.counters(), counters({ steps_replayed_total: 1 }));
  });

  test('steps: survive a lost lease; the next delivery reads them, each read counted', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: first.token, name: 'a', resultJson: '1' });
    await h.store.jobStepPut({ id: job.id, token: first.token, name: 'b', resultJson: '2' });
    await h.loseLeases();
    const second = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: second.token, name: 'a' }), stepOk('1'));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: second.token, name: 'b' }), stepOk('2'));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: second.token, name: 'c' }), stepOk(null));
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: second.token, name: 'a' }), stepOk('1'));
    assert.deepEqual(await h.counters(), counters({ steps_replayed_total: 3 }));
  });

  test('steps: survive a dead-letter jobRetry, so a re-run does not redo finished effects', async (h) => {
    const [job] = await h.enqueue({});
    const first = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: first.token, name: 'charge', resultJson: '"ch_1"' });
    await h.settle(fail(first));
    assert.equal(await h.store.jobRetry(job.id), 'retried');
    const again = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: again.token, name: 'charge' }), stepOk('"ch_1"'));
  });

  test('steps: are deleted with their job by jobsDeleteExpired; a job re-enqueued with that id starts clean', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: r.token, name: 's', resultJson: '"old"' });
    await h.settle(complete(r, '"done"', HOUR));
    assert.equal((await h.store.jobSteps(job.id)).length, 1, 'kept while the result is');
    h.advance(HOUR + 1);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    assert.deepEqual(await h.store.jobSteps(job.id), []);
    assert.deepEqual(await h.store.jobsEnqueue([newJob({ id: job.id })]), [{ id: job.id, created: true }]);
    const again = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: again.token, name: 's' }), stepOk(null));
  });

  test('steps: are deleted by queuePurge with their waiting job', async (h) => {
    const [job] = await h.enqueue({});
    const r = await h.reserveOne();
    await h.store.jobStepPut({ id: job.id, token: r.token, name: 's', resultJson: '"old"' });
    await h.settle(retry(r, HOUR));
    assert.equal(await h.store.queuePurge('default'), 1);
    assert.deepEqual(await h.store.jobSteps(job.id), []);
    await h.store.jobsEnqueue([newJob({ id: job.id })]);
    const again = await h.reserveOne();
    assert.deepEqual(await h.store.jobStepGet({ id: job.id, token: again.token, name: 's' }), stepOk(null));
  });
}

export function stepTests(test: TestFn): void {
  readWriteTests(test);
  fencingTests(test);
  lifecycleTests(test);
}
