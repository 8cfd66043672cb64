/** Resource pools through the app API, on every engine: the seed's executor pool. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PoolExhaustedError } from '../../src/index.js';
import { describeEngines, drain, recordingLogger } from './engines.js';

const LIMIT = { timeout: 20_000 };

describeEngines('pools', (open) => {
  const world = (logger?: ReturnType<typeof recordingLogger>['logger']) => open({ logger });

  it('assign an executor, evaluate, release in finally: never two jobs on one executor, all back at the end', LIMIT, async () => {
    const w = world();
    const executors = w.app.pool('executors');
    assert.equal(await executors.add('exec-1', 'exec-2', 'exec-1'), 2);
    const holding = new Set<string>();
    let overlaps = 0;
    const evaluate = w.app.task({ name: 'evaluate' }, async (ctx, code: string) => {
      const executor = await executors.acquire({ ttl: '1m', wait: '10s', holder: ctx.id });
      try {
        if (holding.has(executor.item)) overlaps++;
        holding.add(executor.item);
        await new Promise((r) => setImmediate(r));
        return { code, on: executor.item };
      } finally {
        holding.delete(executor.item);
        await executor.release();
      }
    });
    const sent = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((c) => evaluate.delay(c)));
    await drain(w, w.worker({ concurrency: 2 }));
    for (const r of sent) assert.match((await r.get()).on, /^exec-[12]$/);
    assert.equal(overlaps, 0);
    assert.deepEqual((await executors.items()).map((i) => [i.item, i.holder]), [['exec-1', null], ['exec-2', null]]);
    assert.equal((await w.app.counters()).double_release_total, 0);
  });

  it('a second release is a no-op that logs a warning and counts double_release_total', LIMIT, async () => {
    const log = recordingLogger();
    const w = world(log.logger);
    const pool = w.app.pool('gpus');
    await pool.add('gpu-0');
    const lease = await pool.acquire();
    assert.equal(await lease.release(), 'released');
    assert.equal(await lease.release(), 'not-held');
    assert.equal((await w.app.counters()).double_release_total, 1);
    assert.ok(log.lines.some((l) => l.level === 40 && /release of "gpu-0" .* ignored: it was already released/.test(l.msg)), JSON.stringify(log.lines));
    assert.equal((await pool.acquire()).item, 'gpu-0', 'still exactly one in the pool');
  });

  it("a leaked item returns when its holder's ttl lapses, and the old holder cannot release the new one's", LIMIT, async () => {
    const w = world();
    const pool = w.app.pool('licences');
    await pool.add('lic-1');
    const leaked = await pool.acquire({ ttl: '10s', holder: 'crashed-worker' });
    await assert.rejects(pool.acquire(), PoolExhaustedError);
    w.clock.now += 10_001;
    const next = await pool.acquire({ ttl: '10s', holder: 'next-worker' });
    assert.equal(next.item, 'lic-1');
    assert.ok(next.token > leaked.token);
    assert.equal(await leaked.release(), 'not-held');
    assert.deepEqual((await pool.items()).map((i) => [i.item, i.holder, i.token]), [['lic-1', 'next-worker', next.token]]);
    const counters = await w.app.counters();
    assert.equal(counters.pool_items_reclaimed_total, 1);
    assert.equal(counters.double_release_total, 1);
  });

  it('await using releases at the end of the block; renew keeps an item past its first ttl', LIMIT, async () => {
    const w = world();
    const pool = w.app.pool('sandboxes');
    await pool.add('sb-1');
    {
      await using sandbox = await pool.acquire({ ttl: '10s' });
      assert.equal(sandbox.item, 'sb-1');
      w.clock.now += 8_000;
      assert.equal(await sandbox.renew('10s'), true);
      w.clock.now += 8_000;
      await assert.rejects(pool.acquire(), PoolExhaustedError, 'renewed: not reclaimed');
    }
    assert.equal((await pool.items())[0]!.holder, null);
    assert.equal((await w.app.counters()).pool_items_reclaimed_total, 0);
  });

  it('acquire waits for a release from elsewhere, up to `wait`', LIMIT, async () => {
    const w = world();
    const pool = w.app.pool('one');
    await pool.add('only');
    const held = await pool.acquire();
    const waiting = pool.acquire({ wait: '10s' });
    setTimeout(() => void held.release(), 50);
    assert.equal((await waiting).item, 'only');
  });
});
