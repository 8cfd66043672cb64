/**
 * Durations: milliseconds as a number, or '500ms', '30s', '10m', '1h', '2d'. They reach users
 * through options (countdown, timeLimit, resultTtl, backoff, get's timeout, ctx.retry), so they
 * are tested there; a bad one is refused naming the option it was given to.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Conveyor, InvalidArgumentError, type Duration } from '../src/index.js';
import { T0, world, type World } from './helpers.js';

let w: World;
beforeEach(() => (w = world()));
afterEach(() => w.close());

/** A value the types would refuse, to reach the runtime check. */
const bad = (value: unknown) => value as Duration;

/** The delay a countdown gives a job: its runAt minus the (fake) now. */
async function countdownMs(wd: World, countdown: Duration): Promise<number> {
  const t = wd.app.tasks.get('t') ?? wd.app.task({ name: 't' }, () => null);
  const r = await t.applyAsync([], { countdown });
  return (await r.info()).runAt!.getTime() - T0;
}

const good: [Duration, number][] = [
  [0, 0],
  [1500, 1500],
  ['500ms', 500],
  ['30s', 30_000],
  ['10m', 600_000],
  ['1h', 3_600_000],
  ['2d', 172_800_000],
  ['1.5s', 1500],
  ['0s', 0],
];

const refused: unknown[] = ['abc', '10 minutes', '10M', '5w', '-5s', '', 's', '.5s', '1e3ms', -1, NaN, Infinity, null, {}, true];

describe('durations', () => {
  for (const [value, ms] of good) {
    it(`${JSON.stringify(value)} is ${ms} ms`, async () => {
      assert.equal(await countdownMs(w, value), ms);
    });
  }

  it('surrounding blanks are tolerated', async () => {
    assert.equal(await countdownMs(w, bad(' 30s ')), 30_000);
  });

  for (const value of refused) {
    it(`${JSON.stringify(value) ?? String(value)} is refused naming options.countdown`, async () => {
      const t = w.app.task({ name: 't' }, () => null);
      const err = await t.applyAsync([], { countdown: bad(value) }).catch((e: unknown) => e);
      assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.ok(err.message.startsWith('options.countdown must be a duration'), err.message);
      assert.ok(err.message.includes("'30s'"), `the message shows the accepted forms: ${err.message}`);
      assert.deepEqual(await w.app.store.queueStats(), []);
    });
  }

  it('task options name the task and the field', () => {
    const cases: [string, () => unknown][] = [
      ['task "a": timeLimit', () => w.app.task({ name: 'a', timeLimit: bad('forever') }, () => null)],
      ['task "b": resultTtl', () => w.app.task({ name: 'b', resultTtl: bad('1 day') }, () => null)],
      ['task "c": expires', () => w.app.task({ name: 'c', expires: bad(-1) }, () => null)],
      ['task "d": retry.backoff.base', () => w.app.task({ name: 'd', retry: { backoff: { base: bad('two seconds') } } }, () => null)],
      ['task "e": retry.backoff.max', () => w.app.task({ name: 'e', retry: { backoff: { max: bad('x') } } }, () => null)],
    ];
    for (const [field, define] of cases) {
      assert.throws(define, (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith(`${field} must be a duration`), field);
    }
    assert.equal(w.app.tasks.size, 0, 'no task with a bad option is registered');
  });

  it('app options name the field', () => {
    assert.throws(() => new Conveyor({ store: w.store, resultTtl: bad('soon') }), (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('resultTtl must be a duration'));
  });

  it('applyAsync expires and get({ timeout }) name their field', async () => {
    const t = w.app.task({ name: 't' }, () => null);
    await assert.rejects(t.applyAsync([], { expires: bad('later') }), (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('options.expires must be a duration'));
    const r = await t.delay();
    await assert.rejects(r.get({ timeout: bad('a while') }), (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('get({ timeout }) must be a duration'));
  });

  it('worker options name the field', () => {
    assert.throws(() => w.worker({ lease: bad('long') }), (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('lease must be a duration'));
    assert.throws(() => w.worker({ heartbeatInterval: bad(-5) }), (e: unknown) => e instanceof InvalidArgumentError && e.message.startsWith('heartbeatInterval must be a duration'));
  });

  it('a bad ctx.retry countdown fails the attempt naming ctx.retry({ countdown })', async () => {
    const t = w.app.task({ name: 't' }, (ctx) => {
      throw ctx.retry({ countdown: bad('in a bit') });
    });
    const r = await t.delay();
    await w.worker().runOnce();
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'InvalidArgumentError');
    assert.ok(info.error?.message.startsWith('ctx.retry({ countdown }) must be a duration'), info.error?.message);
  });
});
