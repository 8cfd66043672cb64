/**
 * Tracking and controlling jobs: AsyncResult (`state`, `info`, `get`), revoke, expiry,
 * priority order and ignoreResult, driven by `worker.runOnce()` on a fake clock.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TaskFailedError, TaskRevokedError, TimeoutError } from '../src/index.js';
import { T0, world, type World } from './helpers.js';

class ValidationError extends Error {
  override name = 'ValidationError';
}

let w: World;
beforeEach(() => (w = world()));
afterEach(() => w.close());

describe('AsyncResult', () => {
  it('an unknown id is PENDING, and info().known is false', async () => {
    const r = w.app.result('no-such-job');
    assert.equal(await r.state(), 'PENDING');
    const info = await r.info();
    assert.equal(info.known, false);
    assert.equal(info.state, 'PENDING');
    assert.equal(info.task, null);
    assert.equal(info.attempts, 0);
  });

  it('a sent job is PENDING and known', async () => {
    const r = await w.app.task({ name: 't' }, () => 1).delay();
    assert.equal(await r.state(), 'PENDING');
    assert.equal((await r.info()).known, true);
    assert.deepEqual(JSON.parse(JSON.stringify({ task: r })), { task: { id: r.id } }, 'serializes as { id }');
  });

  it('info() after a success: result, attempts, deliveries, token, worker and timings', async () => {
    const t = w.app.task({ name: 't' }, (ctx, a: number) => {
      w.clock.now += 1234; // the handler "takes" 1.234 s on the fake clock
      return { doubled: a * 2, token: ctx.fencingToken };
    });
    const r = await t.delay(21);
    w.clock.now = T0 + 100;
    await w.worker({ workerId: 'worker-a' }).runOnce();
    const info = await r.info();
    assert.equal(info.state, 'SUCCESS');
    assert.deepEqual(info.result, { doubled: 42, token: 1 });
    assert.equal(info.error, null);
    assert.equal(info.attempts, 1);
    assert.equal(info.deliveries, 1);
    assert.equal(info.fencingToken, 1);
    assert.equal(info.worker, 'worker-a');
    assert.equal(info.enqueuedAt?.getTime(), T0);
    assert.equal(info.startedAt?.getTime(), T0 + 100);
    assert.equal(info.finishedAt?.getTime(), T0 + 1334);
    assert.equal(info.runtimeMs, 1234);
    assert.deepEqual(await r.get(), { doubled: 42, token: 1 });
  });

  it('get({ timeout: 50 }) of a job that never runs throws TimeoutError', async () => {
    const r = await w.app.task({ name: 't' }, () => 1).delay();
    const err = await r.get({ timeout: 50 }).catch((e: unknown) => e);
    assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${String(err)}`);
    assert.equal(err.code, 'TIMEOUT');
    assert.ok(err.message.includes(r.id) && err.message.includes('PENDING'), err.message);
  });

  it('get({ timeout }) of an unknown id says so', async () => {
    await assert.rejects(w.app.result('ghost').get({ timeout: 20 }), (e: unknown) => e instanceof TimeoutError && e.message.includes('unknown id'));
  });

  it('get() of a failed job throws TaskFailedError with the remote type, message and stack', async () => {
    const t = w.app.task({ name: 'orders.check' }, function checkOrder(_ctx, id: number) {
      throw new ValidationError(`order ${id} has no lines`);
    });
    const r = await t.delay(7);
    await w.worker().runOnce();
    const err = await r.get().catch((e: unknown) => e);
    assert.ok(err instanceof TaskFailedError, `expected TaskFailedError, got ${String(err)}`);
    assert.equal(err.code, 'TASK_FAILED');
    assert.equal(err.type, 'ValidationError');
    assert.equal(err.jobId, r.id);
    assert.equal(err.error.message, 'order 7 has no lines');
    assert.ok(err.message.includes('ValidationError: order 7 has no lines'), err.message);
    assert.ok(err.remoteStack?.includes('checkOrder'), `the remote stack shows the handler: ${err.remoteStack}`);
  });

  it('get() waits for a job a worker finishes meanwhile', async () => {
    const r = await w.app.task({ name: 't' }, () => 'late').delay();
    const got = r.get({ timeout: '5s' });
    await w.worker().runOnce();
    assert.equal(await got, 'late');
  });
});

describe('revoke', () => {
  it('a pending job becomes REVOKED, never runs, and get() throws TaskRevokedError', async () => {
    let ran = false;
    const r = await w.app.task({ name: 't' }, () => (ran = true)).delay();
    assert.equal(await w.app.revoke(r.id, { reason: 'user cancelled' }), 'revoked');
    assert.equal(await r.state(), 'REVOKED');
    assert.equal(await w.worker().runOnce(), 0);
    assert.equal(ran, false);
    const err = await r.get().catch((e: unknown) => e);
    assert.ok(err instanceof TaskRevokedError, `expected TaskRevokedError, got ${String(err)}`);
    assert.equal(err.code, 'TASK_REVOKED');
    assert.equal(err.reason, 'user cancelled');
    assert.ok(err.message.includes('user cancelled'));
  });

  it('a job waiting for its retry can be revoked', async () => {
    const t = w.app.task({ name: 't' }, (ctx) => {
      throw ctx.retry({ countdown: '1s' });
    });
    const r = await t.delay();
    await w.worker().runOnce();
    assert.equal(await r.state(), 'RETRY');
    assert.equal(await w.app.revoke(r.id), 'revoked');
    w.clock.now += 1000;
    assert.equal(await w.worker().runOnce(), 0);
    assert.equal(await r.state(), 'REVOKED');
  });

  it('an unknown id is missing; a finished job is final and stays as it was', async () => {
    assert.equal(await w.app.revoke('no-such-job'), 'missing');
    const r = await w.app.task({ name: 't' }, () => 1).delay();
    await w.worker().runOnce();
    assert.equal(await w.app.revoke(r.id), 'final');
    assert.equal(await r.state(), 'SUCCESS');
    assert.equal(await r.get(), 1);
  });

  it('revoking a running job discards its outcome: REVOKED, not SUCCESS', async () => {
    const t = w.app.task({ name: 't' }, async (ctx) => {
      assert.equal(await w.app.revoke(ctx.id), 'revoked');
      return 'finished anyway';
    });
    const r = await t.delay();
    const worker = w.worker();
    await worker.runOnce();
    const info = await r.info();
    assert.equal(info.state, 'REVOKED');
    assert.equal(info.result, null);
    assert.equal(worker.counts.succeeded, 0);
    assert.equal(worker.counts.lost, 1);
  });
});

describe('expiry', () => {
  it('a job whose expiry passed before a worker reserves it becomes REVOKED and never runs', async () => {
    let ran = 0;
    const t = w.app.task({ name: 't' }, () => ++ran);
    const r = await t.applyAsync([], { expires: '10s' });
    w.clock.now = T0 + 10_001;
    assert.equal(await w.worker().runOnce(), 0);
    assert.equal(ran, 0);
    const info = await r.info();
    assert.equal(info.state, 'REVOKED');
    assert.equal(info.error?.type, 'JobExpiredError');
    await assert.rejects(r.get(), (e: unknown) => e instanceof TaskRevokedError && /expired/.test(e.message));
  });

  it('the task-level expires applies to each job; a job reserved in time runs', async () => {
    let ran = 0;
    const t = w.app.task({ name: 't', expires: '1m' }, () => ++ran);
    const late = await t.delay();
    w.clock.now = T0 + 60_001;
    const fresh = await t.delay();
    assert.equal(await w.worker().runOnce(), 1);
    assert.equal(await late.state(), 'REVOKED');
    assert.equal(await fresh.state(), 'SUCCESS');
    assert.equal(ran, 1);
  });

  it('an expired job does not use up a slot: the next due job is reserved in its place', async () => {
    const t = w.app.task({ name: 't' }, (_ctx, n: number) => n);
    await t.applyAsync([1], { expires: 1000 });
    const r2 = await t.delay(2);
    w.clock.now = T0 + 5000;
    assert.equal(await w.worker({ concurrency: 1 }).runOnce(), 1);
    assert.equal(await r2.get(), 2);
  });
});

describe('priority and results', () => {
  it('higher priority runs first; equal priorities run in the order sent', async () => {
    const order: string[] = [];
    const t = w.app.task({ name: 't' }, (_ctx, label: string) => void order.push(label));
    await t.applyAsync(['low'], { priority: -1 });
    await t.applyAsync(['normal-1']);
    await t.applyAsync(['high'], { priority: 10 });
    await t.applyAsync(['normal-2']);
    await t.applyAsync(['mid'], { priority: 5 });
    const worker = w.worker({ concurrency: 1 });
    while ((await worker.runOnce()) > 0);
    assert.deepEqual(order, ['high', 'mid', 'normal-1', 'normal-2', 'low']);
  });

  it("a task's priority is its jobs' default", async () => {
    const order: string[] = [];
    const urgent = w.app.task({ name: 'urgent', priority: 9 }, () => void order.push('urgent'));
    const normal = w.app.task({ name: 'normal' }, () => void order.push('normal'));
    await normal.delay();
    await urgent.delay();
    const worker = w.worker({ concurrency: 1 });
    while ((await worker.runOnce()) > 0);
    assert.deepEqual(order, ['urgent', 'normal']);
  });

  it('ignoreResult: the state is SUCCESS and the result null', async () => {
    const t = w.app.task({ name: 't', ignoreResult: true }, () => ({ big: 'x'.repeat(1000) }));
    const r = await t.delay();
    await w.worker().runOnce();
    const info = await r.info();
    assert.equal(info.state, 'SUCCESS');
    assert.equal(info.result, null);
    assert.equal(await r.get(), null);
  });

  it('purge deletes the waiting jobs of a queue only', async () => {
    const t = w.app.task({ name: 't' }, () => 1);
    const kept = await t.applyAsync([], { queue: 'other' });
    await t.delay();
    await t.applyAsync([], { countdown: '1h' });
    assert.equal(await w.app.purge('default'), 2);
    assert.equal((await w.app.store.jobsList({ limit: 10 })).map((j) => j.id).join(), kept.id);
  });
});
