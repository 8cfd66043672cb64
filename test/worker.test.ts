/**
 * The worker, in process on a real SQLite file: unknown tasks, time limits, revoke with
 * terminate, fenced completion after a lost lease, and the concurrency bound.
 * (Graceful shutdown: worker-shutdown.test.ts; the tests here stop a worker only once it is idle.)
 *
 * Tests that need the background loops (heartbeats) use `start()` with a real clock and await
 * events the handlers resolve; the rest drive the worker with `runOnce()` on a fake clock.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseLostError, RevokedError, TimeLimitExceededError } from '../src/index.js';
import { deferred, idle, keepAlive, T0, turns, world, type World } from './helpers.js';

const LIMIT = { timeout: 10_000 };

let w: World | undefined;
let release: () => void;
beforeEach(() => (release = keepAlive()));
afterEach(async () => {
  release();
  await w?.close();
});

/** Wake-ups for `until`: call `notify()` whenever the watched state changes. */
function watcher() {
  const checks = new Set<() => void>();
  return {
    notify: () => [...checks].forEach((check) => check()),
    until: (predicate: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!predicate()) return;
          checks.delete(check);
          resolve();
        };
        checks.add(check);
        check();
      }),
  };
}

describe('worker', () => {
  it('a job of a task the app does not have fails with NotRegisteredError; the worker keeps going', LIMIT, async () => {
    w = world({ realClock: true });
    const good = w.app.task({ name: 'good' }, (_ctx, n: number) => n + 1);
    const worker = w.worker({ concurrency: 1 });
    worker.start();
    const nope = await w.app.send('nope', []);
    const next = await good.delay(1);
    assert.equal(await next.get({ timeout: '5s' }), 2);
    await idle(worker);
    await worker.stop();
    const info = await nope.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'NotRegisteredError');
    assert.equal(info.error?.code, 'NOT_REGISTERED');
    assert.ok(info.error?.message.includes('"nope"'), info.error?.message);
    assert.equal(info.attempts, 1, 'not retried');
    assert.deepEqual(worker.counts, { succeeded: 1, failed: 1, retried: 0, released: 0, lost: 0 });
  });

  it('timeLimit aborts ctx.signal with TimeLimitExceededError and fails the attempt with it', LIMIT, async () => {
    w = world();
    const seen = { aborted: false, reason: undefined as unknown };
    const slow = w.app.task({ name: 'slow', timeLimit: 50 }, async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      seen.aborted = ctx.signal.aborted;
      seen.reason = ctx.signal.reason;
      return 'too late';
    });
    const r = await slow.delay();
    await w.worker().runOnce();
    assert.equal(seen.aborted, true);
    assert.ok(seen.reason instanceof TimeLimitExceededError, `reason: ${String(seen.reason)}`);
    assert.equal(seen.reason.limitMs, 50);
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.result, null);
    assert.equal(info.error?.type, 'TimeLimitExceededError');
    assert.equal(info.error?.code, 'TIME_LIMIT_EXCEEDED');
    assert.match(info.error!.message, /50 ms/);
  });

  it('a time limit is a retryable error under a retry policy; a handler within its limit succeeds', LIMIT, async () => {
    w = world();
    const slow = w.app.task(
      { name: 'slow', timeLimit: '50ms', retry: { on: [TimeLimitExceededError], max: 1, backoff: { base: '1s', jitter: false } } },
      async (ctx) => {
        if (ctx.attempt === 1) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        return ctx.attempt;
      },
    );
    const r = await slow.delay();
    const worker = w.worker();
    await worker.runOnce();
    assert.equal(await r.state(), 'RETRY');
    assert.equal((await r.info()).runAt?.getTime(), T0 + 1000);
    w.clock.now = T0 + 1000;
    await worker.runOnce();
    assert.equal(await r.get(), 2);
  });

  it('revoke with terminate aborts a running handler with RevokedError; the job ends REVOKED, not SUCCESS', LIMIT, async () => {
    w = world({ realClock: true });
    const started = deferred();
    const aborted = deferred<unknown>();
    const t = w.app.task({ name: 't' }, async (ctx) => {
      ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason), { once: true });
      started.resolve();
      await aborted.promise;
      return 'finished after the abort';
    });
    const r = await t.delay();
    const worker = w.worker({ heartbeatInterval: 20 });
    worker.start();
    await started.promise;
    assert.equal(await r.state(), 'STARTED');
    assert.equal(await w.app.revoke(r.id, { terminate: true }), 'revoked');
    const reason = await aborted.promise;
    assert.ok(reason instanceof RevokedError, `reason: ${String(reason)}`);
    assert.equal(reason.jobId, r.id);
    await idle(worker);
    await worker.stop();
    const info = await r.info();
    assert.equal(info.state, 'REVOKED');
    assert.equal(info.result, null);
    assert.equal(worker.counts.succeeded, 0);
    assert.equal(worker.counts.lost, 1);
  });

  it("a delivery whose lease was lost cannot overwrite the next delivery's outcome", LIMIT, async () => {
    w = world();
    const first = { started: deferred(), finish: deferred() };
    const t = w.app.task({ name: 't' }, async (ctx) => {
      if (ctx.fencingToken === 1) {
        first.started.resolve();
        await first.finish.promise;
        return 'first';
      }
      return 'second';
    });
    const r = await t.delay();
    const a = w.worker({ lease: 200 });
    const b = w.worker();
    const aRun = a.runOnce();
    await first.started.promise;

    w.clock.now = T0 + 201; // A froze past its lease
    assert.deepEqual(await w.app.store.jobsRecoverExpired(), { requeued: [r.id], failed: [] });
    assert.equal(await b.runOnce(), 1);
    assert.equal(await r.get(), 'second');

    first.finish.resolve();
    assert.equal(await aRun, 1);
    const info = await r.info();
    assert.equal(info.state, 'SUCCESS');
    assert.equal(info.result, 'second', 'the late completion was refused');
    assert.equal(info.worker, 'w2');
    assert.equal(info.deliveries, 2);
    assert.equal(info.fencingToken, 2);
    assert.equal(a.counts.succeeded, 0);
    assert.equal(a.counts.lost, 1);
    assert.equal(b.counts.succeeded, 1);
  });

  it("a running worker that lost its lease aborts the handler's ctx.signal with LeaseLostError", LIMIT, async () => {
    w = world();
    const started = deferred();
    const aborted = deferred<unknown>();
    const t = w.app.task({ name: 't' }, async (ctx) => {
      if (ctx.fencingToken > 1) return 'second';
      ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason), { once: true });
      started.resolve();
      await aborted.promise;
      return 'first';
    });
    const r = await t.delay();
    const a = w.worker({ lease: 200, heartbeatInterval: 20, recoveryInterval: 60_000 });
    a.start();
    await started.promise;
    // Advance and recover in one synchronous step, so no heartbeat of A renews in between.
    w.clock.now = T0 + 201;
    const recovered = w.app.store.jobsRecoverExpired();
    assert.deepEqual(await recovered, { requeued: [r.id], failed: [] });
    assert.equal(await w.worker().runOnce(), 1);
    const reason = await aborted.promise;
    assert.ok(reason instanceof LeaseLostError, `reason: ${String(reason)}`);
    assert.equal(reason.reason, 'stale');
    await idle(a);
    await a.stop();
    assert.equal(await r.get(), 'second');
    assert.equal(a.counts.lost, 1);
  });

  it('runOnce reserves at most `concurrency` jobs and runs them at once', LIMIT, async () => {
    w = world();
    let running = 0;
    let max = 0;
    const t = w.app.task({ name: 't' }, async () => {
      max = Math.max(max, ++running);
      await turns(5);
      running--;
    });
    for (let i = 0; i < 10; i++) await t.delay();
    const worker = w.worker({ concurrency: 3 });
    const taken: number[] = [];
    for (let n; (n = await worker.runOnce()) > 0; ) taken.push(n);
    assert.deepEqual(taken, [3, 3, 3, 1]);
    assert.equal(max, 3);
  });

  it('a started worker never runs more than `concurrency` handlers at once', LIMIT, async () => {
    w = world({ realClock: true });
    const { notify, until } = watcher();
    let running = 0;
    let max = 0;
    let finished = 0;
    const gates: (() => void)[] = [];
    const t = w.app.task({ name: 't' }, async (_ctx, i: number) => {
      max = Math.max(max, ++running);
      await new Promise<void>((resolve) => gates.push(resolve) && notify());
      running--;
      finished++;
      notify();
      return i;
    });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await t.delay(i));
    const worker = w.worker({ concurrency: 3 });
    worker.start();
    while (finished < 10) {
      const done = finished;
      await until(() => running === Math.min(3, 10 - done));
      await turns(); // a chance for a buggy worker to start a fourth
      assert.ok(running <= 3, `running ${running}`);
      gates.shift()!();
      await until(() => finished === done + 1);
    }
    await idle(worker);
    await worker.stop();
    assert.equal(max, 3);
    assert.deepEqual(await Promise.all(results.map((r) => r.get())), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
