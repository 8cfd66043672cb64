/**
 * Workflows with deduplicated steps, through a real worker on every engine: a chord member or a
 * chain's first step whose send is deduplicated still takes part — the job holding its key does
 * its work, and its outcome fills the member's place or carries the chain on. Never a chord or a
 * chain that silently never completes. And the dead-letter retries dedup and chords constrain.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chain, chord } from '../../src/index.js';
import { describeEngines, drain, type World } from './engines.js';

const LIMIT = { timeout: 20_000 };

describeEngines('workflows with deduplicated steps', (world) => {
  function tasks(w: World) {
    const runs: string[] = [];
    const fetch = w.app.task({ name: 'fetch', idempotent: true }, async (_ctx, page: string) => {
      runs.push(`fetch ${page}`);
      return `<${page}>`;
    });
    const join = w.app.task({ name: 'join' }, async (_ctx, parts: string[], sep: string = ',') => parts.join(sep));
    const shout = w.app.task({ name: 'shout' }, async (_ctx, text: string, mark: string = '!') => {
      runs.push(`shout ${text}${mark}`);
      return `${text.toUpperCase()}${mark}`;
    });
    return { runs, fetch, join, shout };
  }

  it('a chord whose two members are the same idempotent call completes: one job runs and fills both places', LIMIT, async () => {
    const w = world();
    const { runs, fetch, join } = tasks(w);
    const r = await chord([fetch.s('a'), fetch.s('a'), fetch.s('b')], join.s()).applyAsync();
    await drain(w, w.worker({ concurrency: 3 }));
    assert.equal(await r.get({ timeout: 5000 }), '<a>,<a>,<b>');
    assert.deepEqual(runs.sort(), ['fetch a', 'fetch b']);
    assert.equal((await w.app.counters()).duplicates_suppressed_total, 1);
  });

  it('a chord member whose key an outside job holds completes with that job’s result', LIMIT, async () => {
    const w = world();
    const { runs, fetch, join } = tasks(w);
    const outside = await fetch.delay('a'); // sent by someone else, still waiting
    const r = await chord([fetch.s('a'), fetch.s('b')], join.s('+')).applyAsync();
    await drain(w, w.worker({ concurrency: 3 }));
    assert.equal(await r.get({ timeout: 5000 }), '<a>+<b>');
    assert.equal(await outside.get(), '<a>');
    assert.deepEqual(runs.sort(), ['fetch a', 'fetch b']);
  });

  it('a chain whose first step is deduplicated goes on after the holder; the same chain twice runs its next step once', LIMIT, async () => {
    const w = world();
    const { runs, fetch, shout } = tasks(w);
    const first = await chain<string>(fetch.s('a'), shout.s()).applyAsync();
    const again = await chain<string>(fetch.s('a'), shout.s()).applyAsync(); // a double click
    const other = await chain<string>(fetch.s('a'), shout.s('?')).applyAsync(); // another chain on the same fetch
    assert.equal(again.id, first.id, 'the same chain: the same last step');
    assert.notEqual(other.id, first.id);
    await drain(w, w.worker({ concurrency: 3 }));
    assert.deepEqual([await first.get({ timeout: 5000 }), await again.get({ timeout: 5000 }), await other.get({ timeout: 5000 })], ['<A>!', '<A>!', '<A>?']);
    assert.deepEqual(runs.sort(), ['fetch a', 'shout <a>!', 'shout <a>?']);
  });

  it('a chain sent after its deduplicated first step ended goes on at once with its result', LIMIT, async () => {
    const w = world();
    const fetch = w.app.task({ name: 'fetch.kept', idempotent: { ttl: '1h' } }, async (_ctx, page: string) => `<${page}>`);
    const { shout } = tasks(w);
    const done = await fetch.delay('a');
    await drain(w, w.worker());
    assert.equal(await done.get(), '<a>');
    const r = await chain<string>(fetch.s('a'), shout.s()).applyAsync();
    await drain(w, w.worker());
    assert.equal(await r.get({ timeout: 5000 }), '<A>!');
    assert.equal(r.parents[0]!.id, done.id);
  });

  it('a chord callback failed by a member runs with every result once the member is retried and succeeds', LIMIT, async () => {
    const w = world();
    let fail = true;
    const flaky = w.app.task({ name: 'flaky' }, async (_ctx, n: number) => {
      if (fail) throw new Error('not yet');
      return n * 10;
    });
    const sum = w.app.task({ name: 'sum' }, async (_ctx, xs: number[]) => xs.reduce((a, b) => a + b, 0));
    const steady = w.app.task({ name: 'steady' }, async (_ctx, n: number) => n);
    const r = await chord([steady.s(1), flaky.s(2)], sum.s()).applyAsync();
    await drain(w, w.worker());
    assert.equal(await r.state(), 'FAILURE');
    assert.equal(await w.app.retry(r.id), 'chord-failed', 'the failed member has not succeeded');
    const [member] = await w.store.jobsList({ task: 'flaky', limit: 1 });
    fail = false;
    assert.equal(await w.app.retry(member!.id), 'retried');
    await drain(w, w.worker());
    assert.equal(await w.app.retry(r.id), 'retried');
    await drain(w, w.worker());
    assert.equal(await r.get({ timeout: 5000 }), 21);
  });

  it('a dead-letter retry is refused while another job holds the failed job’s key', LIMIT, async () => {
    const w = world();
    let attempt = 0;
    const charge = w.app.task({ name: 'charge' }, async () => {
      attempt++;
      if (attempt === 1) throw new Error('declined');
      return 'charged';
    });
    const failed = await charge.applyAsync([], { idempotencyKey: 'order-1' });
    await drain(w, w.worker());
    const second = await charge.applyAsync([], { idempotencyKey: 'order-1' }); // the key is free: a new job
    assert.notEqual(second.id, failed.id);
    assert.equal(await w.app.retry(failed.id), 'key-held');
    await drain(w, w.worker());
    assert.equal(await second.get(), 'charged');
    assert.equal(await w.app.retry(failed.id), 'retried', 'the holder has ended');
  });
});
