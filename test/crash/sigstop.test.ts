/**
 * Fencing for real: a worker frozen (SIGSTOP) past its lease thaws after another worker finished
 * its job. Everything it then tries to write is refused by its stale fencing token: the job keeps
 * the second delivery's outcome, and the steps keep the values first recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { effectRecords, scratch, startWorker, STORES, tail, waitFor, type WorkerProcess } from './processes.js';

for (const store of STORES) describe(`SIGSTOP a worker past its lease (${store.name})`, () => {
  const s = scratch(store);
  let frozen: WorkerProcess | undefined;
  before(() => store.ready());
  after(async () => {
    // A test that failed while A was frozen: thaw it before the SIGKILL of `remove()`.
    if (frozen && frozen.child.exitCode === null && frozen.child.signalCode === null) frozen.child.kill('SIGCONT');
    await s.remove();
  });

  it('the thawed worker changes nothing: its step and its completion are refused, the job keeps B\'s result', { timeout: 60_000 }, async () => {
    const app = s.app();
    // Long enough that A cannot finish before it is frozen; B runs it in full too.
    const r = await app.send('fenced', [1500]);
    const flags = ['--concurrency', '1', '--lease', '1s'];

    const a = await startWorker(s.storeUrl, s.effectsFile, flags);
    const aPid = a.child.pid!;
    await waitFor('A to record step "reserve"', async () => (await app.store.jobSteps(r.id)).some((st) => st.name === 'reserve'), 20_000, () => tail(a.output()));
    process.kill(aPid, 'SIGSTOP');
    frozen = a;
    await waitFor("A's lease to lapse", async () => {
      const job = await app.store.jobGet(r.id);
      return job!.state === 'STARTED' && job!.token === 1 && job!.leaseExpiresAt! < Date.now();
    }, 10_000);

    const b = await startWorker(s.storeUrl, s.effectsFile, flags);
    const bPid = b.child.pid!;
    await waitFor('B to finish the job', async () => (await r.state()) === 'SUCCESS', 20_000, () => tail(b.output()));
    const done = await r.info();
    assert.equal(done.fencingToken, 2, 'B ran the second delivery');
    assert.equal((done.result as { pid: number }).pid, bPid);
    const before = await app.counters();

    process.kill(aPid, 'SIGCONT');
    frozen = undefined;
    // What A does once thawed: its sleep ends, its step 'confirm' is refused, it returns a value.
    await waitFor('A to finish its handler', () => effectRecords(s.effectsFile).some((e) => e.kind === 'finish' && e.pid === aPid), 10_000, () => tail(a.output()));
    await waitFor('A to log its loss', () => /lost its lease \(stale\)|outcome refused \(stale\)/.test(a.output()), 10_000, () => tail(a.output()));
    // A warm shutdown ends only once the outbox is written: A's completion was sent (and refused).
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, tail(a.output()));
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, tail(b.output()));

    // The job is as B left it.
    const after = await r.info();
    assert.equal(after.state, 'SUCCESS');
    assert.equal(after.fencingToken, 2);
    assert.deepEqual(after.result, done.result, "A's late completion did not replace B's result");
    assert.deepEqual(after.finishedAt, done.finishedAt);
    assert.deepEqual(after.result, {
      pid: bPid, token: 2,
      reserved: { pid: aPid, token: 1 }, // replayed from A's record, not run again
      confirmed: { pid: bPid, token: 2 },
    });

    // A's writes after the thaw were refused: at least its step read and its completion.
    const counters = await app.counters();
    assert.ok(counters.stale_writes_refused_total - before.stale_writes_refused_total >= 2,
      `stale writes refused after the thaw: ${before.stale_writes_refused_total} -> ${counters.stale_writes_refused_total}`);
    assert.ok(counters.steps_replayed_total >= 1, 'B replayed step "reserve"');
    const refused = effectRecords(s.effectsFile).filter((e) => e.kind === 'step-refused');
    assert.deepEqual(refused.map(({ pid, token, code, reason }) => ({ pid, token, code, reason })), [{ pid: aPid, token: 1, code: 'LEASE_LOST', reason: 'stale' }]);

    // Each step keeps the value of the first delivery that recorded it.
    const steps = await app.store.jobSteps(r.id);
    assert.deepEqual(steps.map((st) => ({ name: st.name, token: st.token, value: JSON.parse(st.resultJson) as unknown })), [
      { name: 'reserve', token: 1, value: { pid: aPid, token: 1 } },
      { name: 'confirm', token: 2, value: { pid: bPid, token: 2 } },
    ]);

    // No step's effect happened twice.
    const stepEffects = effectRecords(s.effectsFile).filter((e) => e.kind === 'step');
    assert.deepEqual(stepEffects.map((e) => e.key).sort(), [`${r.id}:confirm`, `${r.id}:reserve`], 'each step effect once');
    await app.close();
  });
});
