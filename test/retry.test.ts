/**
 * Retries: the backoff formula (pure), and the retry policy end to end through a worker on a
 * fake clock: RETRY with its runAt, not reserved before it, FAILURE with the last cause once the
 * budget is spent, `ctx.retry`, PermanentError, and the dead-letter retry.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, InvalidArgumentError, PermanentError, type FailureInfo } from '../src/index.js';
import { T0, world, type World } from './helpers.js';

class NetworkError extends Error {
  override name = 'NetworkError';
}

let w: World;
beforeEach(() => (w = world()));
afterEach(() => w.close());

describe('backoffDelay', () => {
  const policy = { baseMs: 1000, maxMs: 60_000, jitter: false };

  it('doubles from base with each retry', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy)), [1000, 2000, 4000, 8000, 16_000, 32_000]);
  });

  it('is capped at max', () => {
    assert.equal(backoffDelay(7, policy), 60_000);
    assert.equal(backoffDelay(50, policy), 60_000);
    assert.equal(backoffDelay(5000, policy), 60_000, 'no overflow to Infinity or NaN');
  });

  it('treats retry 0 like the first', () => {
    assert.equal(backoffDelay(0, policy), 1000);
  });

  it('full jitter draws uniformly between 0 and the capped delay', () => {
    const jittered = { ...policy, jitter: true };
    assert.equal(backoffDelay(3, jittered, () => 0), 0);
    assert.equal(backoffDelay(3, jittered, () => 0.5), 2000);
    assert.equal(backoffDelay(3, jittered, () => 0.999999), 3999);
    assert.equal(backoffDelay(20, jittered, () => 0.25), 15_000, 'jitter applies to the capped delay');
  });

  it('uses Math.random by default, within [0, delay)', () => {
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, { ...policy, jitter: true });
      assert.ok(Number.isInteger(d) && d >= 0 && d < 2000, String(d));
    }
  });
});

describe('retry policy in a worker', () => {
  it('retries an error in `on` after the backoff, then fails with the last cause; onFailure runs once', async () => {
    const failures: [unknown, FailureInfo][] = [];
    let calls = 0;
    const flaky = w.app.task(
      {
        name: 'flaky',
        retry: { on: [NetworkError], max: 2, backoff: { base: '2s', max: '3s', jitter: false } },
        onFailure: (error, job) => void failures.push([error, job]),
      },
      async (ctx, url: string) => {
        calls++;
        throw new NetworkError(`${url} down (attempt ${ctx.attempt})`);
      },
    );
    const r = await flaky.delay('http://x');
    const worker = w.worker();

    assert.equal(await worker.runOnce(), 1);
    let info = await r.info();
    assert.equal(info.state, 'RETRY');
    assert.equal(info.runAt?.getTime(), T0 + 2000);
    assert.equal(info.error?.type, 'NetworkError');
    assert.equal(info.error?.message, 'http://x down (attempt 1)');
    assert.equal(await r.state(), 'RETRY');

    w.clock.now = T0 + 1999;
    assert.equal(await worker.runOnce(), 0, 'not reserved before runAt');
    w.clock.now = T0 + 2000;
    assert.equal(await worker.runOnce(), 1, 'reserved once runAt comes');
    info = await r.info();
    assert.equal(info.state, 'RETRY');
    assert.equal(info.runAt?.getTime(), T0 + 2000 + 3000, '2s * 2 = 4s, capped at 3s');

    w.clock.now = T0 + 4999;
    assert.equal(await worker.runOnce(), 0);
    w.clock.now = T0 + 5000;
    assert.equal(await worker.runOnce(), 1);
    info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.attempts, 3);
    assert.equal(info.error?.type, 'NetworkError');
    assert.equal(info.error?.message, 'http://x down (attempt 3)');
    assert.equal(calls, 3);

    assert.equal(failures.length, 1);
    const [error, job] = failures[0]!;
    assert.ok(error instanceof NetworkError, 'onFailure gets the thrown error itself');
    assert.equal(error.message, 'http://x down (attempt 3)');
    assert.deepEqual(job, { id: r.id, name: 'flaky', args: ['http://x'], attempt: 3 });

    w.clock.now = T0 + 3_600_000;
    assert.equal(await worker.runOnce(), 0, 'a failed job is not run again');
  });

  it('an error not in `on` fails at once', async () => {
    const failures: unknown[] = [];
    const t = w.app.task(
      { name: 't', retry: { on: [NetworkError], max: 5 }, onFailure: (e) => void failures.push(e) },
      () => {
        throw new TypeError('bad input');
      },
    );
    const r = await t.delay();
    await w.worker().runOnce();
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.attempts, 1);
    assert.equal(info.error?.type, 'TypeError');
    assert.equal(failures.length, 1);
    assert.ok(failures[0] instanceof TypeError);
  });

  it('`on` may be a predicate', async () => {
    const t = w.app.task({ name: 't', retry: { on: (e) => (e as Error).message === 'again', backoff: { jitter: false } } }, (ctx) => {
      throw new Error(ctx.attempt === 1 ? 'again' : 'stop');
    });
    const r = await t.delay();
    const worker = w.worker();
    await worker.runOnce();
    assert.equal(await r.state(), 'RETRY');
    w.clock.now += 1000; // the default base
    assert.equal(await worker.runOnce(), 1);
    assert.equal(await r.state(), 'FAILURE');
    assert.equal((await r.info()).error?.message, 'stop');
  });

  it('without `on`, every error retries (default max 3) but a PermanentError fails at once', async () => {
    const plain = w.app.task({ name: 'plain', retry: { backoff: { base: 10, jitter: false } } }, () => {
      throw new Error('transient');
    });
    const permanent = w.app.task({ name: 'permanent', retry: { max: 3 } }, () => {
      throw new PermanentError('card declined', { cause: new Error('402') });
    });
    const flagged = w.app.task({ name: 'flagged', retry: { max: 3 } }, () => {
      throw Object.assign(new Error('gone'), { permanent: true });
    });
    const r1 = await plain.delay();
    const r2 = await permanent.delay();
    const r3 = await flagged.delay();
    const worker = w.worker();
    await worker.runOnce();
    assert.equal(await r1.state(), 'RETRY');
    assert.equal(await r2.state(), 'FAILURE');
    assert.equal((await r2.info()).error?.type, 'PermanentError');
    assert.equal((await r2.info()).error?.code, 'PERMANENT');
    assert.equal(await r3.state(), 'FAILURE', 'an error with permanent: true is permanent too');
    for (let i = 0; i < 3; i++) {
      w.clock.now += 1000;
      assert.equal(await worker.runOnce(), 1);
    }
    const info = await r1.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.attempts, 4, 'the first attempt and 3 retries');
  });

  it('without a retry policy a thrown error fails at once', async () => {
    const t = w.app.task({ name: 't' }, () => {
      throw new NetworkError('down');
    });
    const r = await t.delay();
    await w.worker().runOnce();
    assert.equal(await r.state(), 'FAILURE');
    assert.equal((await r.info()).attempts, 1);
  });

  it('throw ctx.retry({ countdown: "5s", cause }) retries after exactly 5 s, keeping the cause as the error', async () => {
    const seen: number[] = [];
    const t = w.app.task({ name: 't' }, (ctx) => {
      seen.push(ctx.attempt);
      if (ctx.attempt === 1) throw ctx.retry({ countdown: '5s', cause: new NetworkError('busy') });
      return 'done';
    });
    const r = await t.delay();
    const worker = w.worker();
    await worker.runOnce();
    const info = await r.info();
    assert.equal(info.state, 'RETRY');
    assert.equal(info.runAt?.getTime(), T0 + 5000);
    assert.equal(info.error?.type, 'NetworkError');
    assert.equal(info.error?.message, 'busy');
    w.clock.now = T0 + 4999;
    assert.equal(await worker.runOnce(), 0);
    w.clock.now = T0 + 5000;
    assert.equal(await worker.runOnce(), 1);
    assert.equal(await r.get(), 'done');
    assert.deepEqual(seen, [1, 2]);
    assert.equal((await r.info()).error, null, 'a success clears the last error');
  });

  it('ctx.retry past the budget fails the job with its cause', async () => {
    const t = w.app.task({ name: 't', retry: { on: [], max: 1 } }, (ctx) => {
      throw ctx.retry({ countdown: '1s', cause: new NetworkError(`busy ${ctx.attempt}`) });
    });
    const r = await t.delay();
    const worker = w.worker();
    await worker.runOnce();
    assert.equal(await r.state(), 'RETRY');
    w.clock.now += 1000;
    await worker.runOnce();
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'NetworkError');
    assert.equal(info.error?.message, 'busy 2');
  });

  it('ctx.retry past the budget without a cause fails with MaxRetriesExceededError', async () => {
    const t = w.app.task({ name: 't', retry: { max: 0 } }, (ctx) => {
      throw ctx.retry();
    });
    const r = await t.delay();
    await w.worker().runOnce();
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'MaxRetriesExceededError');
    assert.equal(info.error?.code, 'MAX_RETRIES_EXCEEDED');
  });

  it('ctx.retry without a countdown waits for the backoff; without a policy it still retries 3 times', async () => {
    const t = w.app.task({ name: 't' }, (ctx) => {
      throw ctx.retry({ cause: new Error(`no ${ctx.attempt}`) });
    });
    const r = await t.delay();
    const worker = w.worker();
    for (let i = 0; i < 3; i++) {
      await worker.runOnce();
      const info = await r.info();
      assert.equal(info.state, 'RETRY');
      // default backoff: base 1s, doubled, with full jitter: somewhere in [now, now + 1s * 2^i)
      const wait = info.runAt!.getTime() - w.clock.now;
      assert.ok(wait >= 0 && wait < 1000 * 2 ** i, String(wait));
      w.clock.now = info.runAt!.getTime();
    }
    await worker.runOnce();
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.message, 'no 4');
  });

  it(
    'onFailure after ctx.retry past the budget gets the cause, the error the job failed with',
    async () => {
      const failures: unknown[] = [];
      const cause = new NetworkError('busy');
      const t = w.app.task({ name: 't', retry: { max: 0 }, onFailure: (e) => void failures.push(e) }, (ctx) => {
        throw ctx.retry({ cause });
      });
      await t.delay();
      await w.worker().runOnce();
      assert.equal(failures.length, 1);
      assert.equal(failures[0], cause);
    },
  );

  it('the dead-letter view lists failed jobs and app.retry runs one again with a fresh budget', async () => {
    let fixed = false;
    const t = w.app.task({ name: 't', retry: { max: 1, backoff: { base: '1s', jitter: false } } }, (_ctx, n: number) => {
      if (!fixed) throw new NetworkError('down');
      return n + 1;
    });
    const r = await t.delay(41);
    const ok = await w.app.task({ name: 'ok' }, () => 1).delay();
    const worker = w.worker();
    await worker.runOnce();
    w.clock.now += 1000;
    await worker.runOnce();
    assert.equal(await r.state(), 'FAILURE');
    assert.equal(await ok.state(), 'SUCCESS');

    const dead = await w.app.store.jobsList({ states: ['FAILURE'], limit: 10 });
    assert.deepEqual(dead.map((j) => j.id), [r.id]);
    assert.equal(dead[0]!.error?.type, 'NetworkError');

    fixed = true;
    assert.equal(await w.app.retry(r.id), 'retried');
    const again = await r.info();
    assert.equal(again.state, 'PENDING');
    assert.equal(again.attempts, 1);
    assert.equal(again.error, null);
    assert.equal(await worker.runOnce(), 1);
    assert.equal(await r.get(), 42);
    assert.deepEqual(await w.app.store.jobsList({ states: ['FAILURE'], limit: 10 }), []);

    assert.equal(await w.app.retry(r.id), 'not-final', 'a SUCCESS job is not retried');
    assert.equal(await w.app.retry('no-such-id'), 'missing');
  });

  it(
    'a bad retry.max is refused with InvalidArgumentError naming the field',
    () => {
      assert.throws(
        () => w.app.task({ name: 't', retry: { max: -1 } }, () => null),
        (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('task "t": retry.max must be an integer >= 0'),
      );
    },
  );
});
