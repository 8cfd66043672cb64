/**
 * `ctx.progress` on every engine: a report reaches `info().progress`; reports are throttled and
 * the latest is never lost; a stale delivery's report is refused with LeaseLostError; bad
 * arguments are refused before anything is written. Workers run by `runOnce()` on a fake clock;
 * the one real wait is for the throttle's own timer (bounded, polled).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Conveyor, InvalidArgumentError, LeaseLostError, NotJsonError, Worker, type Store } from '../src/index.js';
import { throttledProgress } from '../src/progress.js';
import { deferred, silent, T0, turns } from './helpers.js';
import { describeEngines } from './exactly-once/engines.js';

const LIMIT = { timeout: 20_000 };

type ProgressCall = Parameters<Store['jobProgress']>[0];

/** The world's store, with every jobProgress call recorded. */
function countingStore(store: Store, calls: ProgressCall[]): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'jobProgress') {
        return (params: ProgressCall) => {
          calls.push(params);
          return target.jobProgress(params);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Poll `check` until it is true; fails after `ms`. For the throttle's timer, which runs on real time. */
async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describeEngines('ctx.progress', (world) => {

  it('a report reaches info().progress with its info and the store time, and stays once the job ends', LIMIT, async () => {
    const w = world();
    const reported = deferred();
    const gate = deferred();
    const task = w.app.task({ name: 'import' }, async (ctx) => {
      await ctx.progress(0.25, { step: 'parse', rows: 10 });
      reported.resolve();
      await gate.promise;
      return 'done';
    });
    const r = await task.delay();
    assert.equal((await r.info()).progress, null, 'no progress before it runs');
    const pass = w.worker().runOnce();
    await reported.promise;
    const running = await r.info();
    assert.equal(running.state, 'STARTED');
    assert.deepEqual(running.progress, { fraction: 0.25, info: { step: 'parse', rows: 10 }, at: new Date(T0) });
    gate.resolve();
    await pass;
    const done = await r.info();
    assert.equal(done.state, 'SUCCESS');
    assert.deepEqual(done.progress, { fraction: 0.25, info: { step: 'parse', rows: 10 }, at: new Date(T0) });
    assert.equal((await w.app.result('no-such-job').info()).progress, null);
  });

  it('throttles writes and keeps the latest: a tight loop of reports costs a write or two, and the last one lands before the outcome', LIMIT, async () => {
    const w = world();
    const calls: ProgressCall[] = [];
    const app = new Conveyor({ store: countingStore(w.store, calls), clock: () => w.clock.now, logger: silent });
    const task = app.task({ name: 'loop' }, async (ctx) => {
      for (let i = 1; i <= 100; i++) await ctx.progress(i / 100, { i });
      return 'done';
    });
    const r = await task.delay();
    await new Worker(app, { logger: silent, workerId: 'w1' }).runOnce();
    // The first report at once, the last when the job ends; the loop takes far less than the
    // 250 ms interval, so at most one timer write can fall in between.
    assert.ok(calls.length >= 2 && calls.length <= 3, `${calls.length} writes`);
    assert.deepEqual(calls[0], { id: r.id, token: 1, fraction: 0.01, infoJson: '{"i":1}' });
    assert.deepEqual(calls.at(-1), { id: r.id, token: 1, fraction: 1, infoJson: '{"i":100}' });
    const info = await r.info();
    assert.equal(info.state, 'SUCCESS');
    assert.deepEqual([info.progress?.fraction, info.progress?.info], [1, { i: 100 }]);
  });

  it('a report held back by the throttle is written when the interval ends, while the job still runs', LIMIT, async () => {
    const w = world();
    const gate = deferred();
    const task = w.app.task({ name: 'slow' }, async (ctx) => {
      await ctx.progress(0.1);
      void ctx.progress(0.2, 'held, then replaced');
      void ctx.progress(0.3, 'latest');
      await gate.promise;
    });
    const r = await task.delay();
    const pass = w.worker().runOnce();
    await until('the held report to be written', async () => (await r.info()).progress?.fraction === 0.3);
    const info = await r.info();
    assert.equal(info.state, 'STARTED');
    assert.equal(info.progress?.info, 'latest');
    gate.resolve();
    await pass;
  });

  it("a stale delivery's report is refused with LeaseLostError and aborts ctx.signal; later reports are refused without a write", LIMIT, async () => {
    const w = world();
    const gate = deferred();
    const seen: { error?: string; reason?: string; aborted?: boolean; again?: string } = {};
    const task = w.app.task({ name: 'job' }, async (ctx) => {
      if (ctx.fencingToken === 1) {
        await gate.promise; // frozen past its lease
        try {
          await ctx.progress(0.5, 'stale');
        } catch (err) {
          seen.error = (err as Error).name;
          seen.reason = (err as { reason?: string }).reason;
          seen.aborted = ctx.signal.aborted;
        }
        void ctx.progress(0.6); // not awaited: must not become an unhandled rejection
        seen.again = await ctx.progress(0.7).then(() => 'written', (err: Error) => err.name);
      }
      return ctx.fencingToken;
    });
    const r = await task.delay();
    const first = w.worker({ lease: '1s' }).runOnce();
    while ((await r.state()) !== 'STARTED') await turns(1);
    w.clock.now += 2000;
    await w.worker().runOnce(); // recovers the lapsed lease and runs token 2 to the end
    const refusedBefore = (await w.app.counters()).stale_writes_refused_total;
    gate.resolve();
    await first;
    assert.deepEqual(seen, { error: 'LeaseLostError', reason: 'stale', aborted: true, again: 'LeaseLostError' });
    assert.equal(await r.get(), 2);
    assert.equal((await r.info()).progress, null, 'the stale report did not land');
    // One refused progress write; the second and third reports never reached the store.
    // (The stale delivery's own settlement is refused too: +1 more.)
    assert.equal((await w.app.counters()).stale_writes_refused_total - refusedBefore, 2);
  });

  it('refuses a fraction outside [0, 1] or not a finite number, and info that is not JSON, before writing anything', LIMIT, async () => {
    const w = world();
    const errors: string[] = [];
    const task = w.app.task({ name: 'bad' }, async (ctx) => {
      for (const fraction of [-0.1, 1.5, Number.NaN, Infinity, '0.5', undefined]) {
        try {
          void ctx.progress(fraction as number);
          errors.push(`accepted ${String(fraction)}`);
        } catch (err) {
          assert.ok(err instanceof InvalidArgumentError);
          assert.match(err.message, /^ctx\.progress\(fraction\): fraction must be a finite number from 0 to 1/);
          errors.push(err.name);
        }
      }
      try {
        void ctx.progress(0.5, { when: new Date(T0) });
      } catch (err) {
        assert.ok(err instanceof NotJsonError);
        assert.equal(err.path, 'progress info.when');
        errors.push(err.name);
      }
      return 'ok';
    });
    const r = await task.delay();
    await w.worker().runOnce();
    assert.deepEqual(errors, [...Array(6).fill('InvalidArgumentError'), 'NotJsonError']);
    const info = await r.info();
    assert.equal(info.state, 'SUCCESS');
    assert.equal(info.progress, null);

    // task.run checks the same way, and records nothing.
    const local = w.app.task({ name: 'local' }, async (ctx, f: number) => {
      await ctx.progress(f);
      return f;
    });
    assert.equal(await local.run(0.5), 0.5);
    await assert.rejects(local.run(2), InvalidArgumentError);
  });
});

describe('the progress throttle', () => {
  it('keeps a report whose write failed (not a lost lease) and writes it at the next interval; onError hears of it', LIMIT, async () => {
    const written: number[] = [];
    const errors: unknown[] = [];
    let failNext = true;
    const reporter = throttledProgress(async (fraction) => {
      if (failNext) {
        failNext = false;
        throw new Error('store hiccup');
      }
      written.push(fraction);
    }, { intervalMs: 5, onError: (err) => errors.push(err) });
    await reporter.report(0.5, null); // resolves: a hiccup is not the handler's problem
    await until('the retry', async () => written.length === 1);
    assert.deepEqual(written, [0.5]);
    assert.equal(errors.length, 1);
    await reporter.close();
    await reporter.report(0.9, null); // after close: dropped
    assert.deepEqual(written, [0.5]);
  });

  it('after a lost lease, every report is refused and close() does not write', LIMIT, async () => {
    let writes = 0;
    const reporter = throttledProgress(async () => {
      writes++;
      throw new LeaseLostError('j', 1, 'stale');
    }, { intervalMs: 60_000 });
    await assert.rejects(reporter.report(0.1, null), LeaseLostError);
    await assert.rejects(reporter.report(0.2, null), LeaseLostError);
    await reporter.close();
    assert.equal(writes, 1);
  });
});
