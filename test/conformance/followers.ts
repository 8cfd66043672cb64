/**
 * Conformance: followers — what a deduplicated send leaves to the job holding its key or id
 * (`JobRecord.followers`): its chord place, filled by the holder's outcome, and its chain's next
 * steps (callbacks with a `join`), fired once the holder is final. Never a chord or chain that
 * silently never completes. Also the dead-letter retries that dedup and chords constrain.
 */
import assert from 'node:assert/strict';
import type { Callback, CallbackJob, ChordMember, NewJob } from '../../src/store/store.js';
import { HOUR, callback, callbackJob, complete, counters, fail, jobCount, keyed, newJob, type TestFn } from './harness.js';

const place = (callbackJob: CallbackJob, index: number, size: number): ChordMember => ({ index, size, callback: callbackJob });
/** A chain's link: a success callback passing the result, with a join. */
const link = (join: string, job: Partial<CallbackJob> = {}): Callback => ({ ...callback('success', job, true), join });

function chordTests(test: TestFn): void {
  test('followers: a chord member whose key a running job holds lends its place; the holder’s result fills it', async (h) => {
    const [holder] = await h.enqueue(keyed('fetch:a'));
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '["sum"]' });
    const dup = newJob(keyed('fetch:a', null, { chord: place(cb, 0, 2) }));
    const [other] = [newJob({ chord: place(cb, 1, 2) })];
    assert.deepEqual(await h.store.jobsEnqueue([dup, other]), [{ id: holder!.id, created: false }, { id: other.id, created: true }]);
    assert.deepEqual((await h.get(holder!.id)).followers, { callbacks: [], chords: [place(cb, 0, 2)] });
    const [rh, ro] = await h.reserve({ limit: 2 });
    await h.store.jobsSettle([complete(ro!, '"other"'), complete(rh!, '"fetched"')]);
    assert.equal((await h.get(cb.id)).argsJson, '[["fetched","other"],"sum"]');
    assert.deepEqual((await h.get(holder!.id)).followers, { callbacks: [], chords: [] }, 'fired, then dropped');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1 }));
  });

  test('followers: two members of one chord with one key: one job runs and fills both places', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '[]' });
    const [a, b] = [newJob(keyed('same', null, { chord: place(cb, 0, 2) })), newJob(keyed('same', null, { chord: place(cb, 1, 2) }))];
    assert.deepEqual(await h.store.jobsEnqueue([a, b]), [{ id: a.id, created: true }, { id: a.id, created: false }]);
    await h.completeOne('7');
    assert.equal((await h.get(cb.id)).argsJson, '[[7,7]]');
    assert.equal(await jobCount(h), 2, 'the member and the callback');
  });

  test('followers: a chord member whose key a finished job holds (its TTL) gets its place filled at once', async (h) => {
    const [holder] = await h.enqueue(keyed('k', HOUR));
    await h.completeOne('"kept"');
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '[]' });
    await h.store.jobsEnqueue([newJob(keyed('k', HOUR, { chord: place(cb, 0, 1) }))]);
    assert.equal((await h.get(cb.id)).argsJson, '[["kept"]]');
    assert.deepEqual((await h.get(holder!.id)).followers, { callbacks: [], chords: [] });
  });

  test('followers: a chord member whose key is held by a job that then fails makes the chord fail', async (h) => {
    const [holder] = await h.enqueue(keyed('k'));
    const cb = callbackJob({ queue: 'chord-cb' });
    await h.store.jobsEnqueue([newJob(keyed('k', null, { chord: place(cb, 0, 1) }))]);
    await h.settle(fail(await h.reserveOne()));
    const record = await h.get(cb.id);
    assert.deepEqual([record.state, record.error?.code], ['FAILURE', 'CHORD_FAILED']);
    assert.equal(record.error!.message, `chord member ${holder!.id} (index 0) ended FAILURE: NetworkError: connection reset`);
  });

  test('followers: a chord member whose id is already stored lends its place to that job, once', async (h) => {
    const [existing] = await h.enqueue({});
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '[]' });
    const member = newJob({ id: existing!.id, chord: place(cb, 0, 1) });
    await h.store.jobsEnqueue([member]);
    await h.store.jobsEnqueue([member]); // the same send again: the same place, not added twice
    assert.deepEqual((await h.get(existing!.id)).followers.chords, [place(cb, 0, 1)]);
    await h.completeOne('1');
    assert.equal((await h.get(cb.id)).argsJson, '[[1]]');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 2 }));
  });
}

function chainTests(test: TestFn): void {
  test('followers: a deduplicated send’s callbacks with a join follow the holder; those without one do not', async (h) => {
    const [holder] = await h.enqueue(keyed('k'));
    const next = link('chain-a', { queue: 'steps', argsJson: '["a"]' });
    const plain = callback('success', { queue: 'steps' });
    await h.store.jobsEnqueue([newJob(keyed('k', null, { callbacks: [plain, next] }))]);
    assert.deepEqual((await h.get(holder!.id)).followers, { callbacks: [next], chords: [] });
    await h.completeOne('"r"');
    const fired = await h.get(next.job.id);
    assert.deepEqual([fired.argsJson, fired.parent?.id, fired.parent?.resultJson], ['["r","a"]', holder!.id, '"r"']);
    assert.equal(await h.store.jobGet(plain.job.id), null, 'a call’s own link stays with the send that was deduplicated');
  });

  test('followers: a continuation the holder has already (the same join) is not added again; another one is', async (h) => {
    const own = link('chain-a', { queue: 'steps' });
    const [holder] = await h.enqueue(keyed('k', null, { callbacks: [own] }));
    const same = link('chain-a', { queue: 'steps' });
    const other = link('chain-b', { queue: 'steps' });
    await h.store.jobsEnqueue([newJob(keyed('k', null, { callbacks: [same] })), newJob(keyed('k', null, { callbacks: [other] })), newJob(keyed('k', null, { callbacks: [other] }))]);
    assert.deepEqual((await h.get(holder!.id)).followers.callbacks, [other]);
    await h.completeOne();
    for (const fired of [own, other]) assert.deepEqual([(await h.get(fired.job.id)).state, (await h.get(fired.job.id)).parent?.id], ['PENDING', holder!.id]);
    assert.equal(await h.store.jobGet(same.job.id), null);
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 3 }));
  });

  test('followers: fire at the holder’s next final state even after a dead-letter retry (its own callbacks do not)', async (h) => {
    const own = callback('final', { queue: 'steps' });
    const [holder] = await h.enqueue(keyed('k', null, { callbacks: [own] }));
    await h.settle(fail(await h.reserveOne()));
    assert.equal(await h.store.jobRetry(holder!.id), 'retried');
    const next = link('chain-a', { queue: 'steps' });
    await h.store.jobsEnqueue([newJob(keyed('k', null, { callbacks: [next] }))]);
    await h.completeOne();
    assert.equal((await h.get(next.job.id)).parent?.state, 'SUCCESS');
    assert.deepEqual(await h.counters(), counters({ duplicates_suppressed_total: 1, callbacks_deduplicated_total: 1 }));
  });

  test('followers: a continuation sent after the holder ended fires at once, with its outcome', async (h) => {
    const [holder] = await h.enqueue(keyed('k', HOUR));
    await h.completeOne('5');
    const next = link('chain-a', { queue: 'steps', argsJson: '[]' });
    await h.store.jobsEnqueue([newJob(keyed('k', HOUR, { callbacks: [next] }))]);
    const fired = await h.get(next.job.id);
    assert.deepEqual([fired.state, fired.argsJson, fired.parent?.id], ['PENDING', '[5]', holder!.id]);
  });

  test('followers: a continuation fired at once in the holder’s queue, sent from another, is counted there', async (h) => {
    const [holder] = await h.enqueue({ queue: 'mail' });
    await h.completeOne('5', { queues: ['mail'] });
    const next = link('chain-a', { queue: 'mail', argsJson: '[]' });
    await h.store.jobsEnqueue([newJob({ id: holder!.id, queue: 'sms', callbacks: [next] })]);
    assert.equal((await h.get(next.job.id)).state, 'PENDING');
    const counts = (await h.store.queueStats()).map((q) => [q.queue, q.counts.PENDING, q.counts.SUCCESS]);
    assert.deepEqual(counts, [['mail', 1, 1]]);
    assert.deepEqual((await h.reserveOne({ queues: ['mail'] })).id, next.job.id);
    assert.deepEqual((await h.store.queueStats()).map((q) => [q.queue, q.counts.PENDING, q.counts.STARTED]), [['mail', 0, 1]]);
  });
}

function retryTests(test: TestFn): void {
  test('chords: a callback failed by a member is retried with every member’s result, once the member has succeeded', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '["tail"]' });
    const [m0, m1] = await h.enqueue({ chord: place(cb, 0, 2), priority: 1 }, { chord: place(cb, 1, 2) });
    const [r0, r1] = await h.reserve({ limit: 2 });
    await h.store.jobsSettle([complete(r0!, '"zero"'), fail(r1!)]);
    assert.equal((await h.get(cb.id)).state, 'FAILURE');
    assert.equal(await h.store.jobRetry(cb.id), 'chord-failed', 'member 1 has not succeeded');
    assert.equal((await h.get(cb.id)).state, 'FAILURE', 'the refused retry changed nothing');
    assert.equal(await h.store.jobRetry(m1!.id), 'retried');
    await h.completeOne('"one"');
    assert.equal(await h.store.jobRetry(cb.id), 'retried');
    const retried = await h.get(cb.id);
    assert.deepEqual([retried.state, retried.argsJson, retried.error], ['PENDING', '[["zero","one"],"tail"]', null]);
    assert.deepEqual((await h.reserveOne({ queues: ['chord-cb'] })).argsJson, '[["zero","one"],"tail"]');
    assert.equal(m0!.id, r0!.id);
  });

  test('chords: a callback that ran and failed is retried with its args as they were, whatever its error’s code', async (h) => {
    const cb = callbackJob({ queue: 'chord-cb', argsJson: '["tail"]' });
    await h.enqueue({ chord: place(cb, 0, 1) });
    await h.completeOne('"zero"');
    const ran = await h.reserveOne({ queues: ['chord-cb'] });
    assert.equal(ran.argsJson, '[["zero"],"tail"]');
    const chordLike = { type: 'ChordError', message: 'raised by the handler', code: 'CHORD_FAILED' };
    await h.settle(fail(ran, chordLike));
    assert.equal(await h.store.jobRetry(cb.id), 'retried');
    assert.equal((await h.get(cb.id)).argsJson, '[["zero"],"tail"]');
    // Outside any chord, the same code is just an error's code.
    const [plain] = await h.enqueue({});
    await h.settle(fail(await h.reserveOne(), chordLike));
    assert.equal(await h.store.jobRetry(plain!.id), 'retried');
  });
}

export function followerTests(test: TestFn): void {
  chordTests(test);
  chainTests(test);
  retryTests(test);
}
