/** chain, group, chord and reconcile loops through a real worker, on every engine. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chain, chord, group, TaskFailedError } from '../../src/index.js';
import { describeEngines, drain, type World } from './engines.js';

const LIMIT = { timeout: 20_000 };

describeEngines('workflows', (world) => {

  function mathTasks(w: World) {
    const add = w.app.task({ name: 'add' }, async (_ctx, a: number, b: number) => a + b);
    const sum = w.app.task({ name: 'sum' }, async (_ctx, xs: number[], offset: number = 0) => xs.reduce((x, y) => x + y, offset));
    const boom = w.app.task({ name: 'boom' }, async () => {
      throw new RangeError('out of range');
    });
    return { add, sum, boom };
  }

  it('chain passes each result to the next step; its result is the last one', LIMIT, async () => {
    const w = world();
    const { add } = mathTasks(w);
    const r = await chain<number>(add.s(1, 2), add.s(10), add.s(100)).applyAsync();
    await drain(w, w.worker());
    assert.equal(await r.get(), 113);
    assert.equal(r.parents.length, 2);
    assert.deepEqual(await Promise.all(r.parents.map((p) => p.get())), [3, 13]);
  });

  it("a chain whose step fails stops there, and the chain's get throws that step's error", LIMIT, async () => {
    const w = world();
    const { add, boom } = mathTasks(w);
    const r = await chain(add.s(1, 2), boom.s(), add.s(1)).applyAsync();
    await drain(w, w.worker());
    await assert.rejects(r.get({ timeout: 1000 }), (err: unknown) => err instanceof TaskFailedError && err.type === 'RangeError');
    assert.equal((await r.info()).known, false, 'the step after the failure was never sent');
  });

  it('group sends its members in one enqueue; get answers their results in order', LIMIT, async () => {
    const w = world();
    const { add } = mathTasks(w);
    const g = await group<number>(add.s(1, 1), add.s(2, 2), add.s(3, 3)).applyAsync();
    assert.equal(g.results.length, 3);
    await drain(w, w.worker({ concurrency: 3 }));
    assert.deepEqual(await g.get(), [2, 4, 6]);
  });

  it('chord runs its callback once, after every member, with their results in order', LIMIT, async () => {
    const w = world();
    const { add, sum } = mathTasks(w);
    const r = await chord([add.s(1, 1), add.s(2, 2), add.s(3, 3), add.s(4, 4)], sum.s(1000)).applyAsync();
    await drain(w, w.worker({ concurrency: 2 }));
    assert.equal(await r.get(), 1020);
    assert.equal((await w.store.jobsList({ task: 'sum', limit: 10 })).length, 1);
    const info = await r.info();
    assert.deepEqual(info.args, [[2, 4, 6, 8], 1000]);
  });

  it('a chord with a failed member fails its callback with ChordError instead of running it', LIMIT, async () => {
    const w = world();
    const { add, sum, boom } = mathTasks(w);
    const r = await chord([add.s(1, 1), boom.s()], sum.s()).applyAsync();
    await drain(w, w.worker());
    await assert.rejects(r.get({ timeout: 1000 }), (err: unknown) => err instanceof TaskFailedError && err.type === 'ChordError' && /RangeError: out of range/.test(err.message));
    assert.equal((await r.info()).startedAt, null, 'the callback never ran');
  });

  it('an empty chord runs its callback at once with no results', LIMIT, async () => {
    const w = world();
    const { sum } = mathTasks(w);
    const r = await chord([], sum.s(5)).applyAsync();
    await drain(w, w.worker());
    assert.equal(await r.get(), 5);
  });

  it('a reconcile loop sends what is missing once, however many workers tick it', LIMIT, async () => {
    const w = world();
    const table = [{ name: 'a.example.com', ip: '10.0.0.1' }, { name: 'b.example.com', ip: '10.0.0.2' }];
    const dns = new Map<string, string>([['a.example.com', '10.0.0.1']]);
    let syncs = 0;
    const syncRecord = w.app.task({ name: 'dns.sync', queue: 'dns' }, async (_ctx, record: { name: string; ip: string }) => {
      syncs++;
      dns.set(record.name, record.ip);
    });
    const loop = w.app.reconcile('dns', {
      every: '1m', task: syncRecord, key: (r) => `dns:${r.name}`,
      find: () => table.filter((r) => dns.get(r.name) !== r.ip),
    });
    // Two workers tick at once: one reconcile job.
    const [t1, t2] = await Promise.all([loop.tick(), loop.tick()]);
    assert.equal(t1.id, t2.id);
    // This worker runs only reconciles (queue 'default'), not the syncs they send (queue 'dns').
    const worker = w.worker({ queues: ['default'] });
    await worker.runOnce(); // the reconcile runs: b is missing
    assert.deepEqual(await t1.get(), { found: 1, sent: 1 });
    // Ticks within half a period of the last run are absorbed; later ones run again and
    // find b still waiting to sync, so its send is deduplicated.
    assert.equal((await loop.tick()).id, t1.id);
    w.clock.now += 31_000;
    const t3 = await loop.tick();
    assert.notEqual(t3.id, t1.id);
    await worker.runOnce();
    assert.deepEqual(await t3.get(), { found: 1, sent: 0 });
    await drain(w, w.worker());
    assert.equal(syncs, 1);
    assert.equal(dns.get('b.example.com'), '10.0.0.2');
    w.clock.now += 31_000;
    const t4 = await loop.tick();
    await worker.runOnce();
    assert.deepEqual(await t4.get(), { found: 0, sent: 0 });
  });
});
