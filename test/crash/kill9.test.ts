/** Real crashes: kill -9 a worker process mid-job; the job completes on the next worker. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { effects, scratch, startWorker, STORES, waitFor } from './processes.js';

for (const store of STORES) describe(`kill -9 a worker mid-job (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  it('every job still completes, the killed ones on the next worker with a new fencing token', async () => {
    const app = s.app();
    const results: Awaited<ReturnType<typeof app.send>>[] = [];
    for (let i = 0; i < 12; i++) results.push(await app.send('slow', [300]));

    const first = await startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '3', '--lease', '1s']);
    // Kill it once it has finished some jobs and is in the middle of others — not in the instant
    // between a handler's effect and the write of its outcome: a kill there makes the next delivery
    // repeat the effect (at-least-once), which a store with a network round trip (Redis) shows and
    // which this test is not about. So: no running job has done its effect yet (the store is read
    // first, so an effect landing in between is seen). The running ones have ~300 ms of work left.
    await waitFor('some jobs done and some running', async () => {
      const running = (await app.store.jobsList({ states: ['STARTED'], limit: 100 })).map((j) => j.id);
      const done = effects(s.effectsFile).filter((e) => e.kind === 'done').map((e) => e.id);
      return done.length >= 3 && running.length >= 1 && running.every((id) => !done.includes(id));
    }, 20_000, first.output);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const orphaned = (await app.store.jobsList({ states: ['STARTED'], limit: 100 })).map((j) => j.id);
    assert.ok(orphaned.length >= 1, 'a job was running when the worker died');

    const second = await startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '3', '--lease', '1s']);
    await waitFor('all jobs to succeed', async () => (await Promise.all(results.map((r) => r.state()))).every((st) => st === 'SUCCESS'), 30_000, second.output);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);

    for (const id of orphaned) {
      const info = await app.result(id).info();
      assert.equal(info.state, 'SUCCESS');
      assert.equal(info.fencingToken, 2, 'delivered a second time');
      assert.equal(info.deliveries, 2);
      assert.deepEqual(info.result, { pid: second.child.pid });
    }
    // Nothing lost: every job's effect happened; the killed deliveries never finished theirs.
    const done = effects(s.effectsFile).filter((e) => e.kind === 'done');
    assert.deepEqual(new Set(done.map((e) => e.id)), new Set(results.map((r) => r.id)));
    assert.equal(done.length, results.length, 'no effect happened twice');
    await app.close();
  });

  it('a job whose worker keeps dying fails with WorkerLostError after maxDeliveries (poison-pill guard)', async () => {
    const app = s.app({ maxDeliveries: 2 });
    const r = await app.send('slow', [60_000]);
    for (let delivery = 1; delivery <= 2; delivery++) {
      const w = await startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '1', '--lease', '500ms']);
      await waitFor(`delivery ${delivery} to start`, async () => (await r.info()).fencingToken === delivery && (await r.state()) === 'STARTED', 20_000, w.output);
      w.child.kill('SIGKILL');
      await w.exited;
    }
    const rescuer = await startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '1', '--lease', '500ms']);
    await waitFor('the job to fail', async () => (await r.state()) === 'FAILURE', 20_000, rescuer.output);
    rescuer.child.kill('SIGTERM');
    await rescuer.exited;
    const info = await r.info();
    assert.equal(info.error?.type, 'WorkerLostError');
    assert.match(info.error!.message, /delivered 2 times/);
    await app.close();
  });
});
