/**
 * Clock skew between hosts: processes whose wall clocks disagree by a minute share one Redis (or
 * PostgreSQL) and must never take healthy work from each other. Each process here runs on a
 * "host" whose clock is shifted (src/chaos/skewed-clock.ts makes Date.now() read ahead or
 * behind); the store makes every time decision on the server's own clock (Redis' TIME,
 * PostgreSQL's clock_timestamp()), so none of it may matter.
 *
 * Before the store decided on its own clock, a worker 45 s ahead recovered the healthy leases of
 * a worker with a correct clock at once (lease 5 s, 4 jobs of 12 s: handlers started 8 times,
 * 28 stale writes refused), and a host 60 s ahead took a pool item another holder still renewed.
 *
 * SQLite is not here: its processes share one machine, so one clock.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { effects, scratch, skewedClock, startScript, startWorker, STORES, tail, waitFor, type WorkerProcess } from './processes.js';

const HOLDER = fileURLToPath(new URL('../fixtures/pool-holder.ts', import.meta.url));
for (const store of STORES.filter((s) => s.name !== 'sqlite')) describe(`clock skew between hosts (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  it("workers 45 s apart never recover each other's healthy leases: every handler starts once", { timeout: 60_000 }, async () => {
    const app = s.app();
    const flags = ['--concurrency', '2', '--lease', '2s'];
    const workers = await Promise.all([
      startWorker(s.storeUrl, s.effectsFile, flags),
      startWorker(s.storeUrl, s.effectsFile, flags, skewedClock(45_000)),
    ]);
    const outputs = () => tail(workers.map((w) => w.output()).join('\n'));
    // Four jobs of 4 s for four slots: each worker holds two, well past its 2 s lease, renewing.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await app.send('slow', [4000])).id);
    await waitFor('every job to succeed', async () => (await Promise.all(ids.map((id) => app.result(id).state()))).every((st) => st === 'SUCCESS'), 40_000, outputs);
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, tail(w.output()));

    const starts = effects(s.effectsFile).filter((e) => e.kind === 'start');
    assert.deepEqual(starts.map((e) => e.id).sort(), [...ids].sort(), `each handler started once: ${JSON.stringify(starts)}`);
    assert.deepEqual(starts.map((e) => e.token), [1, 1, 1, 1], 'first deliveries only');
    assert.deepEqual(new Set(starts.map((e) => e.pid)), new Set(workers.map((w) => w.child.pid)), 'both hosts ran jobs');
    for (const id of ids) assert.equal((await app.result(id).info()).deliveries, 1);
    assert.equal((await app.counters()).stale_writes_refused_total, 0);
  });

  it('a pool item held and renewed on one host is not taken by a host 60 s ahead, nor lost by a holder 60 s behind', { timeout: 60_000 }, async () => {
    const app = s.app();
    const pool = app.pool('executors');
    await pool.add('exec-1');
    const holder = (skewMs: number): WorkerProcess => startScript(HOLDER, [s.storeUrl, 'executors', '3000'], skewedClock(skewMs).env, skewedClock(skewMs).nodeArgs);
    const answer = async (p: WorkerProcess) => {
      await waitFor('its answer', () => /^\{.*\}$/m.test(p.output()), 20_000, p.output);
      return JSON.parse(/^\{.*\}$/m.exec(p.output())![0]) as { item: string | null };
    };
    const ready = (p: WorkerProcess) => waitFor('ready', () => p.output().includes('ready\n'), 20_000, p.output);

    // A correct clock holds it (this process, for 30 s: under the 60 s skew, and longer than a
    // slow start of the other process); a host 60 s ahead asks for it.
    const ahead = holder(60_000);
    await ready(ahead);
    const lease = await pool.acquire({ ttl: 30_000 });
    ahead.child.stdin!.write('acquire\n');
    assert.deepEqual(await answer(ahead), { item: null }, 'still held: not lapsed on the store clock');
    ahead.child.stdin!.end();
    assert.equal(await ahead.exited, 0, ahead.output());
    assert.equal(await lease.release(), 'released');

    // A host 60 s behind holds it and renews; this process, on a correct clock, asks for it.
    const behind = holder(-60_000);
    await ready(behind);
    behind.child.stdin!.write('acquire\n');
    assert.deepEqual(await answer(behind), { item: 'exec-1' });
    const renewals = () => behind.output().split('\n').filter((l) => l.startsWith('renewed ')).length;
    let tries = 0;
    // Ask until the holder has renewed three times (past its first 3 s TTL, whatever its clock says).
    await waitFor('three renewals', async () => {
      tries++;
      await assert.rejects(pool.acquire({ ttl: 1000 }), { name: 'PoolExhaustedError' });
      return renewals() >= 3;
    }, 20_000, behind.output);
    assert.doesNotMatch(behind.output(), /^lost$/m, 'the holder never lost its lease');
    behind.child.stdin!.end();
    assert.equal(await behind.exited, 0, behind.output());
    assert.ok(tries > 1);
    const counters = await app.counters();
    assert.deepEqual([counters.pool_items_reclaimed_total, counters.double_release_total], [0, 0]);
    assert.deepEqual((await pool.items()).map((i) => [i.item, i.holder]), [['exec-1', null]]);
  });
});
