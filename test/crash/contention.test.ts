/** Many worker processes on one store (an SQLite file, a Redis prefix): no job lost, none run twice. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { effects, scratch, startWorker, STORES, waitFor } from './processes.js';

for (const store of STORES) describe(`three worker processes on one store (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  it('run 3,000 jobs, each exactly once', async () => {
    const app = s.app();
    const workers = await Promise.all([1, 2, 3].map(() => startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '20'])));
    const ids: string[] = [];
    // Send while the workers run, so reserves race with enqueues too.
    for (let i = 0; i < 3000; i++) ids.push((await app.send('quick', [i])).id);
    await waitFor('all jobs to finish', async () => {
      const [stats] = await app.store.queueStats();
      return stats?.counts.SUCCESS === 3000;
    }, 60_000, () => workers.map((w) => w.output()).join('\n'));
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, w.output());

    const done = effects(s.effectsFile);
    assert.equal(done.length, 3000, 'each job ran once: no double reservation');
    assert.deepEqual(new Set(done.map((e) => e.id)), new Set(ids), 'no job lost');
    assert.ok(done.every((e) => e.token === 1), 'no job needed a second delivery');
    const pids = new Set(done.map((e) => e.pid));
    assert.ok(pids.size >= 2, `work was shared between processes (${pids.size})`);
    await app.close();
  });
});
