/**
 * Bad input through the public API, on every engine: a send with text cut in the middle of a
 * character is refused at `delay()` with the field named, and the sends beside it in the same
 * turn (one store transition) are created and run; a handler whose error message holds such
 * text fails with that message made storable, and its chord still completes.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { chord, InvalidArgumentError } from '../../src/index.js';
import { describeEngines, drain } from './engines.js';

const LIMIT = { timeout: 20_000 };
/** Half of 🌍. */
const CUT = 'cut \ud83c';

describeEngines('bad input through the API', (world) => {
  it('a send with a cut idempotency key is refused by name; the sends of the same turn are created and run', LIMIT, async () => {
    const w = world();
    const echo = w.app.task({ name: 'echo' }, async (_ctx, n: number) => n);
    // Sent in one turn: without the check, the three share one enqueue transition.
    const sends = await Promise.allSettled([
      echo.applyAsync([1], { taskId: 'job-1' }),
      echo.applyAsync([2], { idempotencyKey: CUT }),
      echo.applyAsync([3], { taskId: 'job-3' }),
    ]);
    assert.deepEqual(sends.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
    const refusal = (sends[1] as PromiseRejectedResult).reason as Error;
    assert.ok(refusal instanceof InvalidArgumentError);
    assert.equal(refusal.message, 'options.idempotencyKey holds a lone UTF-16 surrogate at index 4 (text cut in the middle of a character, such as half an emoji), which has no UTF-8 form: pass well-formed text (text.toWellFormed() replaces it with U+FFFD)');
    await drain(w, w.worker());
    assert.deepEqual([await w.app.result('job-1').get(), await w.app.result('job-3').get()], [1, 3]);
    assert.deepEqual((await w.store.queueStats()).map((q) => q.counts.SUCCESS), [2]);
    const again = await echo.applyAsync([1], { taskId: 'job-1' });
    assert.equal(again.duplicate, true, 'a resend finds the job that ran');
  });

  it('a handler error holding cut text fails its job with the text made storable; the chord completes with a ChordError', LIMIT, async () => {
    const w = world();
    const ok = w.app.task({ name: 'ok' }, async () => 'fine');
    const cut = w.app.task({ name: 'cut' }, async () => {
      throw new TypeError(`${CUT} (from a truncated upstream answer)`);
    });
    const total = w.app.task({ name: 'total' }, async (_ctx, parts: string[]) => parts.length);
    const r = await chord([ok.s(), cut.s()], total.s()).applyAsync();
    await drain(w, w.worker({ concurrency: 2 }));
    const [failed] = await w.store.jobsList({ task: 'cut', limit: 1 });
    assert.deepEqual([failed!.state, failed!.error?.type, failed!.error?.message], ['FAILURE', 'TypeError', 'cut \ufffd (from a truncated upstream answer)']);
    const info = await r.info();
    assert.deepEqual([info.state, info.error?.type, info.error?.code], ['FAILURE', 'ChordError', 'CHORD_FAILED']);
    assert.equal(info.error?.message, `chord member ${failed!.id} (index 1) ended FAILURE: TypeError: cut \ufffd (from a truncated upstream answer)`);
    assert.deepEqual(await w.store.jobsList({ states: ['PENDING', 'STARTED', 'RETRY'], limit: 10 }), [], 'nothing left waiting or running');
  });
});
