/** Real graceful shutdown: SIGTERM lets running jobs finish, or releases them after the grace period. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { effects, scratch, startWorker, STORES, waitFor } from './processes.js';

for (const store of STORES) describe(`SIGTERM a worker (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  it('waits for the running job to finish, records it, and exits 0', async () => {
    const app = s.app();
    const r = await app.send('slow', [700]);
    const w = await startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '2']);
    await waitFor('the job to start', async () => (await r.state()) === 'STARTED', 20_000, w.output);
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.output());
    assert.equal(await r.state(), 'SUCCESS');
    assert.match(w.output(), /warm shutdown/);
    await app.close();
  });

  it('past the grace period, releases the job so another worker takes it at once, without counting a delivery', async () => {
    const app = s.app();
    const r = await app.send('slow', [600_000]);
    // A long lease: if the job came back only by lease expiry, this test would time out.
    const w = await startWorker(s.storeUrl, s.effectsFile, ['--lease', '10m', '--shutdown-grace', '200ms']);
    await waitFor('the job to start', async () => (await r.state()) === 'STARTED', 20_000, w.output);
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.output());
    const released = await r.info();
    assert.equal(released.state, 'PENDING');
    assert.equal(released.deliveries, 0, 'a released delivery is not counted');
    assert.equal((await app.store.jobGet(r.id))?.leaseExpiresAt, null);

    const next = await startWorker(s.storeUrl, s.effectsFile, ['--lease', '10m']);
    await waitFor('another worker to take it', async () => (await r.info()).fencingToken === 2, 20_000, next.output);
    assert.equal(await r.state(), 'STARTED');
    await app.revoke(r.id, { terminate: true });
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0, next.output());
    assert.equal(effects(s.effectsFile).filter((e) => e.id === r.id && e.kind === 'done').length, 0);
    await app.close();
  });

  it('a second signal exits at once', async () => {
    const app = s.app();
    const r = await app.send('slow', [600_000]);
    const w = await startWorker(s.storeUrl, s.effectsFile, ['--shutdown-grace', '10m']);
    await waitFor('the job to start', async () => (await r.state()) === 'STARTED', 20_000, w.output);
    w.child.kill('SIGTERM');
    await waitFor('warm shutdown to begin', () => w.output().includes('warm shutdown'), 5_000, w.output);
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 130);
    assert.equal(await r.state(), 'STARTED', 'the lease is left to expire');
    await app.revoke(r.id);
    await app.close();
  });
});
