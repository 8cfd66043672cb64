/**
 * Graceful shutdown of a started worker: `stop({ grace })` lets running jobs finish within the
 * grace period, takes no new ones, then releases the rest so another worker takes them at once.
 * Each `stop()` runs under a guard, so a shutdown that hangs fails the test instead of the run.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deferred, keepAlive, turns, within, world, type World } from './helpers.js';

const LIMIT = { timeout: 10_000 };

let w: World;
let release: () => void;
beforeEach(() => {
  release = keepAlive();
  w = world({ realClock: true });
});
afterEach(async () => {
  release();
  await w.close();
});

describe('worker shutdown', () => {
  it('stop() of an idle worker returns at once', LIMIT, async () => {
    const worker = w.worker();
    worker.start();
    await turns();
    assert.equal(await within(1000, worker.stop()), undefined);
  });

  it(
    'stop({ grace: 2000 }) waits for a running job to finish, and takes no new job meanwhile',
    LIMIT,
    async () => {
      const started = deferred();
      const finish = deferred();
      const t = w.app.task({ name: 't' }, async (_ctx, n: number) => {
        started.resolve();
        await finish.promise;
        return n;
      });
      const running = await t.delay(1);
      const waiting = await t.delay(2);
      const worker = w.worker({ concurrency: 1 });
      worker.start();
      await started.promise;

      const stopped = within(1000, worker.stop({ grace: 2000 }));
      await turns();
      finish.resolve();
      assert.equal(await stopped, undefined, 'stop() returned once the job finished');
      const info = await running.info();
      assert.equal(info.state, 'SUCCESS');
      assert.equal(info.result, 1);
      assert.equal(await waiting.state(), 'PENDING', 'no job is taken after stop()');
      assert.equal(worker.counts.succeeded, 1);
      assert.equal(worker.counts.released, 0);
    },
  );

  it(
    'stop({ grace: 50 }) releases a job that never ends: PENDING again, the delivery not counted, its signal aborted; another worker takes it at once',
    LIMIT,
    async () => {
      const started = deferred();
      const aborted = deferred<unknown>();
      const t = w.app.task({ name: 't' }, async (ctx) => {
        if (ctx.fencingToken > 1) return 'taken over';
        ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason), { once: true });
        started.resolve();
        return new Promise<string>(() => {}); // never ends, whatever the signal says
      });
      const r = await t.delay();
      const a = w.worker();
      a.start();
      await started.promise;
      assert.equal((await r.info()).deliveries, 1);

      assert.equal(await within(3000, a.stop({ grace: 50 })), undefined);
      assert.equal(aborted.settled, true, "the handler's ctx.signal was aborted");
      assert.match(String((await aborted.promise as Error).message), /shutting down/);
      const info = await r.info();
      assert.equal(info.state, 'PENDING');
      assert.equal(info.deliveries, 0, 'a released delivery does not count toward maxDeliveries');
      assert.equal(info.attempts, 1);
      assert.equal(a.counts.released, 1);

      const b = w.worker();
      assert.equal(await b.runOnce(), 1, 'due at once: no lease to wait out');
      assert.equal(await r.get(), 'taken over');
      const after = await r.info();
      assert.equal(after.deliveries, 1);
      assert.equal(after.fencingToken, 2);
      assert.equal(after.worker, 'w2');
    },
  );
});
