/**
 * The seed stories, made impossible, on every engine: a customer charged twice; `link` and
 * `linkError` both running the cleanup; ten identical submissions running ten times; a stale
 * worker overwriting the result of the delivery that replaced it. (Pools: pools.test.ts.)
 * Workers run by `runOnce()` on a fake clock: no test sleeps to let time pass.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Conveyor } from '../../src/index.js';
import { deferred, turns } from '../helpers.js';
import { describeEngines, drain } from './engines.js';

const LIMIT = { timeout: 20_000 };

async function jobsOf(app: Conveyor, task: string) {
  return app.store.jobsList({ task, limit: 100 });
}

describeEngines('seed scenarios', (world) => {

  it('a customer is charged once: the retry gets the recorded charge instead of charging again', LIMIT, async () => {
    const w = world();
    const gateway = new Map<string, number>();
    let bodyRuns = 0;
    const charge = w.app.task({ name: 'charge' }, async (ctx, order: string, cents: number) => {
      const receipt = await ctx.step('charge', () => {
        bodyRuns++;
        const key = ctx.stepKey('charge');
        gateway.set(key, (gateway.get(key) ?? 0) + 1);
        return { order, cents, key };
      });
      // The email after the charge fails once: the whole task is retried.
      if (ctx.attempt === 1) throw ctx.retry({ countdown: '1s', cause: new Error('smtp down') });
      return receipt;
    });
    const r = await charge.delay('o-1', 4200);
    await drain(w, w.worker());
    assert.deepEqual(await r.get(), { order: 'o-1', cents: 4200, key: `${r.id}:charge` });
    assert.equal((await r.info()).attempts, 2);
    assert.equal(bodyRuns, 1);
    assert.deepEqual([...gateway.values()], [1]);
    const steps = await w.store.jobSteps(r.id);
    assert.deepEqual(steps.map((s) => [s.name, JSON.parse(s.resultJson), s.token]), [['charge', { order: 'o-1', cents: 4200, key: `${r.id}:charge` }, 1]]);
    assert.equal((await w.app.counters()).steps_replayed_total, 1);
  });

  it("a stale worker cannot overwrite the result of the delivery that replaced it, nor fire linkError", LIMIT, async () => {
    const w = world();
    const gate = deferred();
    let bodyRuns = 0;
    const cleanup = w.app.task({ name: 'cleanup' }, async () => 'cleaned');
    const job = w.app.task({ name: 'job', linkError: cleanup.si() }, async (ctx) => {
      await ctx.step('effect', () => ++bodyRuns);
      if (ctx.fencingToken === 1) {
        await gate.promise; // frozen past its lease
        throw new Error('the stale delivery fails late');
      }
      return { token: ctx.fencingToken };
    });
    const r = await job.delay();
    const stale = w.worker({ lease: '1s' });
    const first = stale.runOnce();
    while ((await w.store.jobSteps(r.id)).length === 0) await turns(1);
    w.clock.now += 2000; // the first lease has lapsed
    await w.worker().runOnce(); // recovers the job and delivers it again: token 2
    assert.deepEqual(await r.get(), { token: 2 });
    gate.resolve();
    await first; // the stale delivery's failure is written now, and refused
    const info = await r.info();
    assert.equal(info.state, 'SUCCESS');
    assert.deepEqual(info.result, { token: 2 });
    assert.equal(info.fencingToken, 2);
    assert.equal(bodyRuns, 1, 'the step ran once');
    assert.equal(stale.counts.lost, 1);
    assert.deepEqual(await jobsOf(w.app, 'cleanup'), [], 'no linkError fired');
    const counters = await w.app.counters();
    assert.equal(counters.stale_writes_refused_total, 1);
    assert.equal(counters.steps_replayed_total, 1);
  });

  it('a step whose lease is gone throws LeaseLostError and aborts ctx.signal', LIMIT, async () => {
    const w = world();
    const gate = deferred();
    const seen: { error?: string; aborted?: boolean } = {};
    const job = w.app.task({ name: 'job' }, async (ctx) => {
      if (ctx.fencingToken === 1) {
        await gate.promise;
        try {
          await ctx.step('late', () => 'never recorded');
        } catch (err) {
          seen.error = (err as Error).name;
          seen.aborted = ctx.signal.aborted;
          throw err;
        }
      }
      return ctx.fencingToken;
    });
    const r = await job.delay();
    const first = w.worker({ lease: '1s' }).runOnce();
    while ((await r.state()) !== 'STARTED') await turns(1);
    w.clock.now += 2000;
    await w.worker().runOnce();
    gate.resolve();
    await first;
    assert.deepEqual(seen, { error: 'LeaseLostError', aborted: true });
    assert.equal(await r.get(), 2);
    assert.deepEqual(await w.store.jobSteps(r.id), []);
  });

  it('link and linkError: exactly one of them fires per job, once, whatever the retries', LIMIT, async () => {
    const w = world();
    const fired: string[] = [];
    const cleanup = w.app.task({ name: 'cleanup' }, async (ctx, kind: string) => {
      fired.push(`${kind}:${ctx.parent!.id}:${ctx.parent!.state}`);
    });
    const flaky = w.app.task(
      { name: 'flaky', link: cleanup.si('link'), linkError: cleanup.si('linkError'), finally: cleanup.si('finally') },
      async (ctx, failures: number) => {
        if (ctx.attempt <= failures) throw ctx.retry({ countdown: '1s', cause: new Error(`attempt ${ctx.attempt} failed`) });
        return 'ok';
      },
    );
    const recovers = await flaky.delay(1); // fails once, then succeeds
    const fails = await flaky.delay(9); // runs out of retries (3)
    await drain(w, w.worker());
    assert.equal(await recovers.state(), 'SUCCESS');
    assert.equal(await fails.state(), 'FAILURE');
    assert.deepEqual(fired.sort(), [
      `finally:${fails.id}:FAILURE`, `finally:${recovers.id}:SUCCESS`, `link:${recovers.id}:SUCCESS`, `linkError:${fails.id}:FAILURE`,
    ].sort());

    // A dead-letter retry that fails again fires nothing more: the callbacks already ran.
    assert.equal(await w.app.retry(fails.id), 'retried');
    await drain(w, w.worker());
    assert.equal(await fails.state(), 'FAILURE');
    assert.equal(fired.length, 4);
    assert.equal((await w.app.counters()).callbacks_deduplicated_total, 2);
  });

  it('a link gets the parent result first; linkError and finally see the parent in ctx.parent', LIMIT, async () => {
    const w = world();
    const seen: unknown[] = [];
    const record = w.app.task({ name: 'record' }, async (ctx, ...args: unknown[]) => void seen.push({ args, parent: ctx.parent }));
    const ok = w.app.task({ name: 'ok' }, async (_ctx, n: number) => ({ n, big: 0.1 + 0.2 }));
    const bad = w.app.task({ name: 'bad' }, async () => {
      throw new TypeError('nope');
    });
    const a = await ok.applyAsync([7], { link: record.s('extra') });
    const b = await bad.applyAsync([], { linkError: record.s('on-error'), finally: record.si() });
    await drain(w, w.worker());
    const byArgs = new Map(seen.map((s) => [JSON.stringify((s as { args: unknown[] }).args), s as { args: unknown[]; parent: Record<string, unknown> }]));
    const link = byArgs.get(JSON.stringify([{ n: 7, big: 0.30000000000000004 }, 'extra']));
    assert.ok(link, `link got the result then its args: ${JSON.stringify(seen)}`);
    assert.deepEqual(link.parent, { id: a.id, task: 'ok', state: 'SUCCESS', result: { n: 7, big: 0.30000000000000004 }, error: null });
    const onError = byArgs.get(JSON.stringify(['on-error']))!;
    assert.equal(onError.parent.state, 'FAILURE');
    assert.equal((onError.parent.error as { type: string }).type, 'TypeError');
    assert.ok(byArgs.get('[]'), 'finally ran with its own args only');
    assert.equal(seen.length, 3);
    assert.equal((await w.app.result(b.id).info()).state, 'FAILURE');
  });

  it('ten identical submissions run once and all get the same id and result', LIMIT, async () => {
    const w = world();
    let runs = 0;
    const report = w.app.task({ name: 'report', idempotent: true }, async (_ctx, month: string, opts: { format: string; lang: string }) => {
      runs++;
      return `${month}.${opts.format}`;
    });
    // Key order differs between calls: the derived key hashes canonical JSON.
    const sent = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      report.delay('2026-11', i % 2 ? { format: 'pdf', lang: 'en' } : { lang: 'en', format: 'pdf' })));
    assert.equal(new Set(sent.map((r) => r.id)).size, 1);
    assert.deepEqual(sent.map((r) => r.duplicate), [false, true, true, true, true, true, true, true, true, true]);
    // One more from a later turn, while it waits: joins it too.
    const late = await report.delay('2026-11', { format: 'pdf', lang: 'en' });
    assert.equal(late.id, sent[0]!.id);
    await drain(w, w.worker());
    assert.equal(runs, 1);
    for (const r of [...sent, late]) assert.equal(await r.get(), '2026-11.pdf');
    assert.equal((await w.app.counters()).duplicates_suppressed_total, 10);
    // Until-complete (the default): once it is done, the same call is a new job.
    const again = await report.delay('2026-11', { format: 'pdf', lang: 'en' });
    assert.notEqual(again.id, sent[0]!.id);
    assert.equal(again.duplicate, false);
    // Other args, other key.
    assert.notEqual((await report.delay('2026-12', { format: 'pdf', lang: 'en' })).id, again.id);
  });

  it('an idempotency key with a TTL answers the original result after it completed, until the TTL passes', LIMIT, async () => {
    const w = world();
    let runs = 0;
    const invoice = w.app.task({ name: 'invoice' }, async (_ctx, order: string) => `invoice-${order}-${++runs}`);
    const first = await invoice.applyAsync(['o-9'], { idempotencyKey: 'invoice:o-9', idempotencyTtl: '1h' });
    await drain(w, w.worker());
    const dup = await invoice.applyAsync(['o-9'], { idempotencyKey: 'invoice:o-9', idempotencyTtl: '1h' });
    assert.equal(dup.id, first.id);
    assert.equal(dup.duplicate, true);
    assert.equal(await dup.get(), 'invoice-o-9-1');
    w.clock.now += 3_600_000 + 1;
    const fresh = await invoice.applyAsync(['o-9'], { idempotencyKey: 'invoice:o-9', idempotencyTtl: '1h' });
    assert.notEqual(fresh.id, first.id);
    await drain(w, w.worker());
    assert.equal(await fresh.get(), 'invoice-o-9-2');
  });
});
