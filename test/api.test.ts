/**
 * The app's public API: store selection by URL and CONVEYOR_STORE, the task registry, inline
 * `run`, and the per-call options of `applyAsync` / `app.send`.
 * (AsyncResult, revoke, expiry, priority: results.test.ts.)
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Conveyor, InvalidArgumentError, Retry, UnknownStoreError, type ApplyOptions } from '../src/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { allJobs, T0, world, type World } from './helpers.js';

let w: World;
beforeEach(() => (w = world()));
afterEach(() => w.close());

/** Run `fn` with CONVEYOR_STORE set to `value` (or unset), restoring it after. */
async function withEnv(value: string | undefined, fn: () => Promise<void> | void): Promise<void> {
  const saved = process.env.CONVEYOR_STORE;
  if (value === undefined) delete process.env.CONVEYOR_STORE;
  else process.env.CONVEYOR_STORE = value;
  try {
    await fn();
  } finally {
    if (saved === undefined) delete process.env.CONVEYOR_STORE;
    else process.env.CONVEYOR_STORE = saved;
  }
}

function isUnknownStore(url: string) {
  return (e: unknown) => e instanceof UnknownStoreError && e.code === 'UNKNOWN_STORE' && e.message.includes(`"${url}"`) && e.message.includes('sqlite:');
}

describe('store selection', () => {
  it('an unknown scheme is refused with UnknownStoreError naming the URL', () => {
    assert.throws(() => new Conveyor({ store: 'bogus:x' }), isUnknownStore('bogus:x'));
    assert.throws(() => new Conveyor({ store: 'bogus:x' }), /unknown scheme "bogus:"/);
    assert.throws(() => new Conveyor({ store: 'conveyor.db' }), isUnknownStore('conveyor.db'));
    assert.throws(() => new Conveyor({ store: 'sqlite:' }), isUnknownStore('sqlite:'));
    assert.throws(() => new Conveyor({ store: 'sqlite:./x.db?synchronous=sometimes' }), isUnknownStore('sqlite:./x.db?synchronous=sometimes'));
  });

  it('useStore refuses a bad URL, and any URL once the store is open', async () => {
    const app = new Conveyor({ store: `sqlite:${path.join(w.dir, 'a.db')}` });
    assert.throws(() => app.useStore('bogus:y'), isUnknownStore('bogus:y'));
    app.useStore(`sqlite:${path.join(w.dir, 'b.db')}`);
    assert.equal(app.store.description, `sqlite:${path.join(w.dir, 'b.db')}`);
    assert.throws(() => app.useStore(`sqlite:${path.join(w.dir, 'c.db')}`), InvalidArgumentError);
    await app.close();
  });

  it('CONVEYOR_STORE is used when no store is given', async () => {
    const file = path.join(w.dir, 'from-env.db');
    await withEnv(`sqlite:${file}`, async () => {
      const app = new Conveyor();
      assert.equal(app.store.description, `sqlite:${file}`);
      const r = await app.task({ name: 't' }, () => 1).delay();
      await app.close();
      const other = new SqliteStore(file);
      assert.equal((await other.jobGet(r.id))?.task, 't', 'the job is in the file CONVEYOR_STORE names');
      await other.close();
    });
  });

  it('a store given to the app wins over CONVEYOR_STORE', async () => {
    const file = path.join(w.dir, 'given.db');
    await withEnv('bogus:from-env', async () => {
      const app = new Conveyor({ store: `sqlite:${file}` });
      assert.equal(app.store.description, `sqlite:${file}`);
      await app.close();
    });
  });

  it('a bad CONVEYOR_STORE is refused naming it', async () => {
    await withEnv('bogus:from-env', () => {
      assert.throws(() => new Conveyor(), isUnknownStore('bogus:from-env'));
    });
  });

  it('without a store or CONVEYOR_STORE (or with it empty), the store is ./conveyor.db', async () => {
    const cwd = process.cwd();
    process.chdir(w.dir);
    try {
      for (const env of [undefined, '']) {
        await withEnv(env, async () => {
          const app = new Conveyor();
          assert.equal(app.store.description, 'sqlite:./conveyor.db');
          await app.task({ name: 't' }, () => 1).delay();
          await app.close();
          assert.ok(fs.existsSync(path.join(w.dir, 'conveyor.db')));
        });
      }
    } finally {
      process.chdir(cwd);
    }
  });

  it('the store opens on first use, not in the constructor', async () => {
    const file = path.join(w.dir, 'lazy.db');
    const app = new Conveyor({ store: `sqlite:${file}` });
    app.task({ name: 't' }, () => 1);
    assert.equal(fs.existsSync(file), false);
    await app.close();
  });
});

describe('task registry', () => {
  it('a duplicate task name is refused naming it', () => {
    w.app.task({ name: 'email.send' }, () => 1);
    assert.throws(
      () => w.app.task({ name: 'email.send' }, () => 2),
      (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('"email.send"') && e.message.includes('already registered'),
    );
    assert.equal(w.app.tasks.size, 1);
  });

  it('a task needs a non-empty name and a handler', () => {
    assert.throws(() => w.app.task({ name: '' }, () => 1), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('options.name'));
    assert.throws(() => w.app.task({ name: 'x' }, 'nope' as never), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('handler'));
    assert.throws(() => w.app.task({ name: 'y', maxDeliveries: 0 }, () => 1), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('maxDeliveries'));
  });

  it('app.tasks lists registered tasks by name', () => {
    const t = w.app.task({ name: 'a' }, () => 1);
    assert.equal(w.app.tasks.get('a'), t);
    assert.equal(t.name, 'a');
  });
});

describe('task.run', () => {
  it('runs the handler inline and returns its value, without opening the store', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-')), 'never.db');
    const app = new Conveyor({ store: `sqlite:${file}` });
    const add = app.task({ name: 'add', queue: 'math' }, async (ctx, a: number, b: number) => ({
      sum: a + b, attempt: ctx.attempt, queue: ctx.queue, aborted: ctx.signal.aborted,
    }));
    assert.deepEqual(await add.run(2, 3), { sum: 5, attempt: 1, queue: 'math', aborted: false });
    assert.equal(fs.existsSync(file), false, 'run never touches the store');
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('propagates what the handler throws, ctx.retry() included', async () => {
    const t = w.app.task({ name: 't' }, (ctx, mode: string) => {
      if (mode === 'retry') throw ctx.retry({ countdown: '5s' });
      throw new RangeError('nope');
    });
    await assert.rejects(t.run('error'), RangeError);
    await assert.rejects(t.run('retry'), (e: unknown) => e instanceof Retry && e.countdownMs === 5000);
    assert.deepEqual(await allJobs(w.app), []);
  });
});

describe('applyAsync options', () => {
  const t = () => w.app.tasks.get('t') ?? w.app.task({ name: 't', queue: 'work', priority: 3 }, () => 'ran');
  const send = (options: ApplyOptions) => t().applyAsync([], options);

  it('no options: the task queue and priority, runAt now, no expiry, a random id', async () => {
    const r = await send({});
    const info = await r.info();
    assert.equal(info.known, true);
    assert.match(r.id, /^[0-9a-f-]{36}$/);
    assert.equal(info.queue, 'work');
    assert.equal(info.priority, 3);
    assert.equal(info.runAt?.getTime(), T0);
    assert.equal(info.enqueuedAt?.getTime(), T0);
    assert.equal(info.expiresAt, null);
    assert.deepEqual(info.args, []);
  });

  it('countdown delays the job by that long', async () => {
    const r = await send({ countdown: '10s' });
    assert.equal((await r.info()).runAt?.getTime(), T0 + 10_000);
    const worker = w.worker();
    assert.equal(await worker.runOnce(), 0);
    assert.equal(await r.state(), 'PENDING');
    w.clock.now = T0 + 10_000;
    assert.equal(await worker.runOnce(), 1);
    assert.equal(await r.get(), 'ran');
  });

  it('eta takes a Date, epoch ms or an ISO string', async () => {
    const at = T0 + 60_000;
    for (const eta of [new Date(at), at, new Date(at).toISOString()]) {
      assert.equal((await (await send({ eta })).info()).runAt?.getTime(), at);
    }
  });

  it('expires takes a duration from now or a Date', async () => {
    assert.equal((await (await send({ expires: '1m' })).info()).expiresAt?.getTime(), T0 + 60_000);
    assert.equal((await (await send({ expires: new Date(T0 + 5000) })).info()).expiresAt?.getTime(), T0 + 5000);
  });

  it('queue sends elsewhere: only a worker of that queue takes it', async () => {
    const r = await send({ queue: 'reports' });
    assert.equal((await r.info()).queue, 'reports');
    assert.equal(await w.worker().runOnce(), 0);
    assert.equal(await w.worker({ queues: ['reports'] }).runOnce(), 1);
    assert.equal(await r.get(), 'ran');
  });

  it('priority and taskId', async () => {
    const r = await send({ priority: -7, taskId: 'invoice-2024-001' });
    assert.equal(r.id, 'invoice-2024-001');
    const info = await r.info();
    assert.equal(info.id, 'invoice-2024-001');
    assert.equal(info.priority, -7);
  });

  it('app.send uses a registered task defaults and the same options', async () => {
    t();
    const r = await w.app.send('t', [], { countdown: 500 });
    const info = await r.info();
    assert.equal(info.queue, 'work');
    assert.equal(info.priority, 3);
    assert.equal(info.runAt?.getTime(), T0 + 500);
    const unknown = await (await w.app.send('other.task', [1])).info();
    assert.equal(unknown.queue, 'default');
    assert.equal(unknown.priority, 0);
  });

  const refused: [string, ApplyOptions, string[]][] = [
    ['countdown and eta together', { countdown: '1s', eta: T0 }, ['options.countdown', 'options.eta']],
    ['a fractional priority', { priority: 1.5 }, ['options.priority']],
    ['a string priority', { priority: 'high' as never }, ['options.priority']],
    ['a NaN priority', { priority: NaN }, ['options.priority']],
    ['an eta that is not a time', { eta: 'next tuesday' }, ['options.eta']],
    ['an invalid Date eta', { eta: new Date('x') }, ['options.eta']],
    ['an empty queue', { queue: '' }, ['options.queue']],
    ['an empty taskId', { taskId: '' }, ['options.taskId']],
  ];
  for (const [what, options, fields] of refused) {
    it(`refuses ${what}, naming ${fields.join(' and ')}, enqueueing nothing`, async () => {
      const err = await send(options).catch((e: unknown) => e);
      assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
      for (const field of fields) assert.ok(err.message.includes(field), `${field} in: ${err.message}`);
      assert.deepEqual(await allJobs(w.app), []);
    });
  }

  it(
    'reusing a taskId does not leak a raw store error: it is refused with a typed error or joins the first job',
    async () => {
      const first = await send({ taskId: 'same' });
      const again = await t().applyAsync([], { taskId: 'same', queue: 'elsewhere' }).catch((e: unknown) => e);
      if (again instanceof Error) assert.ok(again instanceof InvalidArgumentError, `got ${again.name}: ${again.message}`);
      else assert.equal((again as { id: string }).id, first.id);
      const jobs = await allJobs(w.app);
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0]!.queue, 'work', 'the first job is untouched');
    },
  );
});

describe('argsSchema', () => {
  it('a send whose args fail the task schema is refused with the path and reason; nothing is enqueued', async () => {
    const { z } = await import('zod');
    const greet = w.app.task({ name: 'greet', argsSchema: z.tuple([z.email(), z.string().min(1)]) }, async (_ctx, to: string, name: string) => `${to}:${name}`);
    await assert.rejects(greet.delay('not-an-email', 'ann'), (err: unknown) => err instanceof InvalidArgumentError && /task "greet": args\[0\]: /.test(err.message));
    await assert.rejects(w.app.send('greet', ['a@b.co', '']), (err: unknown) => err instanceof InvalidArgumentError && /args\[1\]/.test(err.message));
    assert.equal((await allJobs(w.app)).length, 0);
    assert.ok((await greet.delay('a@b.co', 'ann')).id);
  });
});
