/**
 * The JSON rules: args are checked at enqueue and results at completion. Anything JSON would
 * mangle is refused with the path of the offending value and what to pass instead, and nothing
 * is enqueued.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, NotJsonError, PayloadTooLargeError, TaskFailedError } from '../src/index.js';
import { allJobs, world, type World } from './helpers.js';

const MiB = 1024 * 1024;

let w: World;
beforeEach(() => (w = world()));
afterEach(() => w.close());

/** A task that takes anything, so the type checker lets every bad value through to the runtime check. */
const echoTask = (wd: World) => wd.app.task({ name: 'echo' }, async (_ctx, ...args: unknown[]) => args);

async function assertNothingEnqueued(wd: World): Promise<void> {
  assert.deepEqual(await wd.app.store.queueStats(), []);
  assert.deepEqual(await allJobs(wd.app), []);
}

class Point {
  constructor(readonly x: number, readonly y: number) {}
}

const cyclic = () => {
  const node: Record<string, unknown> = { name: 'a' };
  node.self = node;
  return node;
};

/** [what, args, path, the instruction the message must contain] */
const refused: [string, () => unknown[], string, string][] = [
  ['a Date', () => [1, { when: new Date(0) }], 'args[1].when', 'toISOString()'],
  ['a BigInt', () => [10n], 'args[0]', 'as a string'],
  ['a function', () => [{ cb: () => 1 }], 'args[0].cb', 'pass the data the function needs'],
  ['a class instance', () => [new Point(1, 2)], 'args[0]', 'plain object'],
  ['a cycle', () => [cyclic()], 'args[0].self', 'without the back-reference'],
  ['NaN', () => [NaN], 'args[0]', 'finite number'],
  ['Infinity', () => [{ ratio: Infinity }], 'args[0].ratio', 'finite number'],
  ['-Infinity', () => [[-Infinity]], 'args[0][0]', 'finite number'],
  ['a Map', () => [new Map([['a', 1]])], 'args[0]', 'Object.fromEntries(map)'],
  ['a Set', () => [new Set([1])], 'args[0]', '[...set]'],
  ['a Symbol', () => [{ tag: Symbol('t') }], 'args[0].tag', 'pass a string'],
  ['an undefined array element', () => [[1, undefined, 3]], 'args[0][1]', 'pass null'],
  ['an undefined argument', () => ['a', undefined], 'args[1]', 'pass null'],
  ['a hole in an array', () => [[1, , 3]], 'args[0][1]', 'pass null'], // eslint-disable-line no-sparse-arrays
  ['a Buffer', () => [Buffer.from('hi')], 'args[0]', 'base64'],
  [
    'a value under odd keys',
    () => [{ 'a-b': { 'x y': [{ '0': new Date(0), ok: 1 }] } }],
    'args[0]["a-b"]["x y"][0]["0"]',
    'toISOString()',
  ],
  ['a value under identifier-like keys', () => [{ $id: { _v: [0, { when: new Date(0) }] } }], 'args[0].$id._v[1].when', 'toISOString()'],
];

describe('args at enqueue', () => {
  for (const [what, args, path, instruction] of refused) {
    it(`refuses ${what} with NotJsonError at ${path}, enqueueing nothing`, async () => {
      const echo = echoTask(w);
      const err = await echo.delay(...args()).then(
        () => assert.fail('delay should have rejected'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof NotJsonError, `expected NotJsonError, got ${String(err)}`);
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.code, 'NOT_JSON');
      assert.equal(err.path, path);
      assert.ok(err.message.startsWith(`${path} `), `message names the path: ${err.message}`);
      assert.ok(err.message.includes('not JSON'), err.message);
      assert.ok(err.message.includes(instruction), `message says what to pass instead (${instruction}): ${err.message}`);
      await assertNothingEnqueued(w);
    });
  }

  it('names the class of an instance in the message', async () => {
    const err = await echoTask(w).delay(new Point(1, 2)).catch((e: unknown) => e);
    assert.ok(err instanceof NotJsonError);
    assert.match(err.message, /args\[0\] is a Point/);
  });

  it('applyAsync and app.send check args the same way', async () => {
    const echo = echoTask(w);
    await assert.rejects(echo.applyAsync([{ when: new Date(0) }], { queue: 'other' }), { code: 'NOT_JSON', path: 'args[0].when' });
    await assert.rejects(w.app.send('echo', [1, 2n]), { code: 'NOT_JSON', path: 'args[1]' });
    await assertNothingEnqueued(w);
  });

  it('accepts an undefined object field and drops it, as JSON does', async () => {
    const echo = echoTask(w);
    const r = await echo.delay({ a: 1, b: undefined, nested: { c: undefined, d: [null] } });
    assert.deepEqual((await r.info()).args, [{ a: 1, nested: { d: [null] } }]);
  });

  it('accepts plain JSON: nested objects, arrays, null, unicode, null-prototype objects', async () => {
    const echo = echoTask(w);
    const bare = Object.assign(Object.create(null) as object, { k: 'v' });
    const args = [null, true, 0, -1.5, 'héllo ✓', [[], {}], { 'odd key': { deep: [1, 'two', { three: 3 }] } }, bare];
    const r = await echo.delay(...args);
    assert.deepEqual((await r.info()).args, JSON.parse(JSON.stringify(args)));
  });

  it('refuses args over the default limit of 1 MiB with PayloadTooLargeError, enqueueing nothing', async () => {
    const echo = echoTask(w);
    const err = await echo.delay('x'.repeat(MiB)).catch((e: unknown) => e);
    assert.ok(err instanceof PayloadTooLargeError, `expected PayloadTooLargeError, got ${String(err)}`);
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(err.path, 'args');
    assert.equal(err.limit, MiB);
    assert.equal(err.bytes, MiB + 4); // ["…"]
    assert.ok(err.message.startsWith('args '), err.message);
    assert.ok(err.message.includes(String(MiB)), err.message);
    assert.ok(err.message.includes('pass its key instead'), err.message);
    await assertNothingEnqueued(w);
  });

  it('the limit is inclusive and counts UTF-8 bytes, not characters', async () => {
    const echo = echoTask(w);
    await echo.delay('x'.repeat(MiB - 4)); // exactly 1 MiB of JSON
    // Half as many characters, but each 'é' is two bytes.
    await assert.rejects(echo.delay('é'.repeat(MiB / 2 - 1)), { code: 'PAYLOAD_TOO_LARGE', bytes: MiB + 2 });
    assert.equal((await allJobs(w.app)).length, 1);
  });

  it('maxPayloadBytes on the app sets the limit', async () => {
    const small = world({ maxPayloadBytes: 100 });
    try {
      const echo = echoTask(small);
      await assert.rejects(echo.delay('x'.repeat(100)), { code: 'PAYLOAD_TOO_LARGE', limit: 100, path: 'args' });
      await echo.delay('x'.repeat(96));
      assert.equal((await allJobs(small.app)).length, 1);
    } finally {
      await small.close();
    }
  });

  it('a bad maxPayloadBytes is refused naming the option', () => {
    assert.throws(() => world({ maxPayloadBytes: 0 }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('maxPayloadBytes'));
  });
});

describe('results at completion', () => {
  it('a result that is not JSON fails the job with NotJsonError at result..., and the worker keeps going', async () => {
    const bad = w.app.task({ name: 'bad' }, async () => ({ when: new Date(0) }));
    const good = w.app.task({ name: 'good' }, async (_ctx, n: number) => n * 2);
    const r1 = await bad.delay();
    const r2 = await good.delay(21);
    const worker = w.worker({ concurrency: 1 });
    assert.equal(await worker.runOnce(), 1);
    const info = await r1.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'NotJsonError');
    assert.equal(info.error?.code, 'NOT_JSON');
    assert.ok(info.error?.message.startsWith('result.when is a Date'), info.error?.message);
    assert.ok(info.error?.message.includes('toISOString()'), info.error?.message);
    assert.equal(await worker.runOnce(), 1);
    assert.equal(await r2.get(), 42);
    await assert.rejects(r1.get(), (e: unknown) => e instanceof TaskFailedError && e.type === 'NotJsonError');
  });

  it('a non-JSON result fails at once even when the task retries on every error', async () => {
    const bad = w.app.task({ name: 'bad', retry: { max: 5 } }, async () => new Map());
    const r = await bad.delay();
    await w.worker().runOnce();
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.attempts, 1);
    assert.equal(info.error?.type, 'NotJsonError');
    assert.match(info.error!.message, /^result is a Map/);
  });

  it('a result over the payload limit fails the job with PayloadTooLargeError', async () => {
    const small = world({ maxPayloadBytes: 100 });
    try {
      const big = small.app.task({ name: 'big' }, async () => 'x'.repeat(200));
      const r = await big.delay();
      await small.worker().runOnce();
      const info = await r.info();
      assert.equal(info.state, 'FAILURE');
      assert.equal(info.error?.type, 'PayloadTooLargeError');
      assert.ok(info.error?.message.startsWith('result is 202 bytes'), info.error?.message);
    } finally {
      await small.close();
    }
  });

  it(
    'a result over the payload limit fails at once even when the task retries on every error',
    async () => {
      const small = world({ maxPayloadBytes: 100 });
      try {
        const big = small.app.task({ name: 'big', retry: { max: 3 } }, async () => 'x'.repeat(200));
        const r = await big.delay();
        await small.worker().runOnce();
        const info = await r.info();
        assert.equal(info.state, 'FAILURE');
        assert.equal(info.attempts, 1);
      } finally {
        await small.close();
      }
    },
  );

  it('an undefined result is stored as null; undefined fields of a result are dropped', async () => {
    const none = w.app.task({ name: 'none' }, async () => undefined);
    const partial = w.app.task({ name: 'partial' }, async () => ({ a: 1, b: undefined as number | undefined }));
    const r1 = await none.delay();
    const r2 = await partial.delay();
    await w.worker().runOnce();
    assert.equal(await r1.get(), null);
    assert.deepEqual(await r2.get(), { a: 1 });
  });
});
