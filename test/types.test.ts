/**
 * Type tests: a task's args and result types flow to `delay`, `applyAsync`, `run` and `get`.
 * `npm run typecheck` runs tsc over this file, so a broken inference fails CI: each
 * `@ts-expect-error` line must stay an error, and each `Expect<Equal<…>>` must hold. The
 * type-only calls live in a function that is never called, so nothing is sent at run time.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AsyncResult, Duration, JobState, Task, TaskContext, TaskInfo } from '../src/index.js';
import { world, type World } from './helpers.js';

/** True when X and Y are the same type (not merely assignable). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
type Expect<T extends true> = T;

let w: World;
beforeEach(() => (w = world()));
afterEach(() => w.close());

function define(wd: World) {
  const add = wd.app.task({ name: 'add' }, async (_ctx, a: number, b: number) => a + b);
  const welcome = wd.app.task({ name: 'welcome' }, async (ctx, to: string, username?: string) => ({
    status: 'sent' as const,
    to,
    username: username ?? null,
    attempt: ctx.attempt,
  }));
  const sync = wd.app.task({ name: 'sync' }, (_ctx, xs: string[]) => xs.length);
  const nothing = wd.app.task({ name: 'nothing' }, async () => {});
  return { add, welcome, sync, nothing };
}

/** Never called: it only has to compile (or fail to, where marked). */
export async function typeOnly(wd: World): Promise<void> {
  const { add, welcome, sync, nothing } = define(wd);

  type _task = Expect<Equal<typeof add, Task<[a: number, b: number], number>>>;
  type _delay = Expect<Equal<ReturnType<typeof add.delay>, Promise<AsyncResult<number>>>>;
  type _apply = Expect<Equal<ReturnType<typeof add.applyAsync>, Promise<AsyncResult<number>>>>;
  type _run = Expect<Equal<ReturnType<typeof add.run>, Promise<number>>>;
  type _syncResult = Expect<Equal<Awaited<ReturnType<typeof sync.run>>, number>>;
  type _void = Expect<Equal<Awaited<ReturnType<Awaited<ReturnType<typeof nothing.delay>>['get']>>, void>>;

  const n: number = await (await add.delay(1, 2)).get();
  const m: number = await (await add.applyAsync([1, 2], { countdown: '10s', priority: 5 })).get({ timeout: '30s' });
  const local: number = await add.run(1, 2);
  const info: TaskInfo<number> = await (await add.delay(1, 2)).info();
  const state: JobState = await (await add.delay(1, 2)).state();
  void [n, m, local, info, state];

  const sent = await (await welcome.delay('ann@example.com')).get();
  type _object = Expect<Equal<typeof sent, { status: 'sent'; to: string; username: string | null; attempt: number }>>;
  await welcome.delay('ann@example.com', 'ann');
  await welcome.applyAsync(['ann@example.com']);

  // @ts-expect-error a string where a number is expected
  await add.delay('1', 2);
  // @ts-expect-error too few arguments
  await add.delay(1);
  // @ts-expect-error too many arguments
  await add.delay(1, 2, 3);
  // @ts-expect-error applyAsync takes the args as one array
  await add.applyAsync(1, 2);
  // @ts-expect-error wrong element type in applyAsync's args
  await add.applyAsync([1, '2']);
  // @ts-expect-error too few args in applyAsync
  await add.applyAsync([1]);
  // @ts-expect-error run checks args too
  await add.run(1, '2');
  // @ts-expect-error the result is a number, not a string
  const s: string = await (await add.delay(1, 2)).get();
  // @ts-expect-error the result of welcome has no `id`
  (await (await welcome.delay('a')).get()).id;
  // @ts-expect-error sync takes a string[]
  await sync.delay([1, 2]);
  // @ts-expect-error not a duration
  await add.applyAsync([1, 2], { countdown: '10 minutes' });
  // @ts-expect-error priority is a number
  await add.applyAsync([1, 2], { priority: 'high' });
  // @ts-expect-error no such option
  await add.applyAsync([1, 2], { countdwn: '1s' });
  void s;

  // A handler's ctx is a TaskContext; its args are checked against the declared types.
  wd.app.task({ name: 'ctx' }, async (ctx, a: number) => {
    type _ctx = Expect<Equal<typeof ctx, TaskContext>>;
    const signal: AbortSignal = ctx.signal;
    void signal;
    if (a > 1) throw ctx.retry({ countdown: '5s', cause: new Error('x') });
    return a;
  });

  // app.send knows no task types: the result is what the caller says, else unknown.
  const byName = await wd.app.send('add', [1, 2]);
  type _sendUnknown = Expect<Equal<Awaited<ReturnType<typeof byName.get>>, unknown>>;
  const typed = await wd.app.send<number>('add', [1, 2]);
  type _sendTyped = Expect<Equal<Awaited<ReturnType<typeof typed.get>>, number>>;
  // app.result(id) carries a result type too.
  const tracked: number = await wd.app.result<number>('some-id').get();
  void tracked;

  const d1: Duration = '500ms';
  const d2: Duration = 30_000;
  // @ts-expect-error no unit
  const d3: Duration = '30';
  // @ts-expect-error unknown unit
  const d4: Duration = '2w';
  void [d1, d2, d3, d4];
}

describe('task types', () => {
  it('the typed calls run: delay, applyAsync and run return the handler result', async () => {
    const { add, welcome } = define(w);
    const r = await add.delay(1, 2);
    const r2 = await add.applyAsync([20, 22]);
    const r3 = await welcome.delay('ann@example.com');
    assert.equal(await w.worker().runOnce(), 3);
    const n: number = await r.get();
    assert.equal(n, 3);
    assert.equal(await r2.get(), 42);
    assert.deepEqual(await r3.get(), { status: 'sent', to: 'ann@example.com', username: null, attempt: 1 });
    assert.equal(await add.run(2, 3), 5);
    assert.equal(typeof typeOnly, 'function');
  });
});
