/**
 * Conformance: callbacks — `NewJob.callbacks`, fired once, in the transition that first makes a
 * job final (see the JSDoc of `Store`).
 *
 * Terminology: the *parent* is the job whose final state fires a callback; the *callback* is the
 * job the store enqueues for it. Callbacks go to the `callbacks` queue unless a test says otherwise,
 * so reserving from `default` never takes one by accident.
 */
import assert from 'node:assert/strict';
import type { ParentInfo } from '../../src/store/store.js';
import {
  LEASE_MS,
  SECOND,
  T0,
  callback,
  callbackJob,
  complete,
  counters,
  fail,
  firedRecord,
  jobCount,
  lost,
  newJob,
  ok,
  pendingRecord,
  retry,
  sampleError,
  type TestFn,
} from './harness.js';

function outcomeTests(test: TestFn): void {
  test('callbacks: jobGet returns callbacks, chord and idempotencyKey exactly as enqueued', async (h) => {
    const nested = callback('success', { argsJson: '[ "n" ]', callbacks: [] }, true);
    const job = newJob({
      callbacks: [callback('failure', { queue: 'errors', priority: -3, maxDeliveries: 1 }), callback('final', { callbacks: [nested] }), nested],
      chord: { index: 1, size: 2, callback: callbackJob({ argsJson: '[{}]' }) },
      idempotency: { key: 'k', ttlMs: 5 },
    });
    await h.store.jobsEnqueue([job]);
    assert.deepEqual(await h.store.jobGet(job.id), pendingRecord(job, T0));
  });

  test('callbacks: complete fires the success and final callbacks, not the failure ones', async (h) => {
    const [onSuccess, onFailure, onFinal] = [callback('success'), callback('failure'), callback('final', { priority: 7, maxDeliveries: 9 })];
    const [parent] = await h.enqueue({ task: 'test.parent', callbacks: [onSuccess, onFailure, onFinal] });
    const r = await h.reserveOne();
    h.advance(500);
    assert.deepEqual(await h.settle(complete(r, '{"sent":true}')), ok(parent.id));
    const info: ParentInfo = { id: parent.id, task: 'test.parent', state: 'SUCCESS', resultJson: '{"sent":true}', error: null };
    assert.deepEqual(await h.store.jobGet(onSuccess.job.id), firedRecord(onSuccess.job, T0 + 500, info));
    assert.deepEqual(await h.store.jobGet(onFinal.job.id), firedRecord(onFinal.job, T0 + 500, info));
    assert.equal(await h.store.jobGet(onFailure.job.id), null);
    assert.deepEqual(await h.counters(), counters());
  });

  test('callbacks: fail fires the failure and final callbacks, with the error in parent', async (h) => {
    const [onSuccess, onFailure, onFinal] = [callback('success'), callback('failure'), callback('final')];
    const [parent] = await h.enqueue({ task: 'test.parent', callbacks: [onSuccess, onFailure, onFinal] });
    const r = await h.reserveOne();
    h.advance(7);
    await h.settle(fail(r, sampleError('boom')));
    const info: ParentInfo = { id: parent.id, task: 'test.parent', state: 'FAILURE', resultJson: null, error: sampleError('boom') };
    assert.deepEqual(await h.store.jobGet(onFailure.job.id), firedRecord(onFailure.job, T0 + 7, info));
    assert.deepEqual(await h.store.jobGet(onFinal.job.id), firedRecord(onFinal.job, T0 + 7, info));
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
  });

  test('callbacks: a retry settlement fires nothing (RETRY is not final)', async (h) => {
    const cbs = [callback('success'), callback('failure'), callback('final')];
    await h.enqueue({ callbacks: cbs });
    await h.settle(retry(await h.reserveOne(), 0));
    for (const cb of cbs) assert.equal(await h.store.jobGet(cb.job.id), null);
    assert.equal(await jobCount(h), 1);
  });

  test('callbacks: revoking a pending job fires its failure and final callbacks with a RevokedError', async (h) => {
    const [onSuccess, onFailure, onFinal] = [callback('success'), callback('failure'), callback('final')];
    const [parent] = await h.enqueue({ callbacks: [onSuccess, onFailure, onFinal] });
    h.advance(3);
    assert.equal(await h.store.jobRevoke({ id: parent.id, terminate: false, reason: 'customer cancelled' }), 'revoked');
    const { error } = await h.get(parent.id);
    assert.deepEqual(error, { type: 'RevokedError', code: 'REVOKED', message: 'customer cancelled' });
    const info: ParentInfo = { id: parent.id, task: parent.task, state: 'REVOKED', resultJson: null, error };
    assert.deepEqual(await h.store.jobGet(onFailure.job.id), firedRecord(onFailure.job, T0 + 3, info));
    assert.deepEqual(await h.store.jobGet(onFinal.job.id), firedRecord(onFinal.job, T0 + 3, info));
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
  });

  test('callbacks: revoking a running job fires them once; its holder’s late outcome fires nothing', async (h) => {
    const [onSuccess, onFailure] = [callback('success'), callback('failure')];
    const [parent] = await h.enqueue({ callbacks: [onSuccess, onFailure] });
    const r = await h.reserveOne();
    await h.store.jobRevoke({ id: parent.id, terminate: true });
    const fired = await h.store.jobGet(onFailure.job.id);
    assert.equal(fired?.parent?.state, 'REVOKED');
    assert.deepEqual(await h.store.jobsSettle([complete(r)]), [lost(parent.id, 'revoked', true)]);
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
    assert.deepEqual(await h.store.jobGet(onFailure.job.id), fired);
    assert.deepEqual(await h.counters(), counters());
  });

  test('callbacks: revoking a job waiting in RETRY fires its failure callbacks', async (h) => {
    const [onSuccess, onFailure] = [callback('success'), callback('failure')];
    const [parent] = await h.enqueue({ callbacks: [onSuccess, onFailure] });
    await h.settle(retry(await h.reserveOne(), SECOND));
    await h.store.jobRevoke({ id: parent.id, terminate: false });
    assert.equal((await h.get(onFailure.job.id)).parent?.state, 'REVOKED');
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
  });

  test('callbacks: a job failed by lost deliveries fires its failure callbacks with the WorkerLostError', async (h) => {
    const [onSuccess, onFailure] = [callback('success'), callback('failure')];
    const [parent] = await h.enqueue({ maxDeliveries: 1, callbacks: [onSuccess, onFailure] });
    await h.reserveOne();
    assert.deepEqual(await h.loseLeases(), { requeued: [], failed: [parent.id] });
    const { error } = await h.get(parent.id);
    assert.deepEqual(error, {
      type: 'WorkerLostError', code: 'WORKER_LOST',
      message: `job ${parent.id} was delivered 1 times and its worker was lost each time (killed, crashed or frozen past its lease); giving up`,
    });
    const info: ParentInfo = { id: parent.id, task: parent.task, state: 'FAILURE', resultJson: null, error };
    assert.deepEqual(await h.store.jobGet(onFailure.job.id), firedRecord(onFailure.job, T0 + LEASE_MS + 1, info));
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
  });

  test('callbacks: a job expired at reserve fires its failure callbacks', async (h) => {
    const [onSuccess, onFinal] = [callback('success'), callback('final')];
    const [parent] = await h.enqueue({ expiresAt: T0 + 10, callbacks: [onSuccess, onFinal] });
    h.advance(11);
    assert.deepEqual(await h.reserve(), []);
    const { error, state } = await h.get(parent.id);
    assert.equal(state, 'REVOKED');
    const info: ParentInfo = { id: parent.id, task: parent.task, state: 'REVOKED', resultJson: null, error };
    assert.deepEqual(await h.store.jobGet(onFinal.job.id), firedRecord(onFinal.job, T0 + 11, info));
    assert.equal(await h.store.jobGet(onSuccess.job.id), null);
  });

  test('callbacks: queuePurge deletes waiting jobs without firing their callbacks', async (h) => {
    const cbs = [callback('failure'), callback('final')];
    await h.enqueue({ callbacks: cbs });
    assert.equal(await h.store.queuePurge('default'), 1);
    for (const cb of cbs) assert.equal(await h.store.jobGet(cb.job.id), null);
  });
}

function argsTests(test: TestFn): void {
  test('callbacks: passResult prepends the parent result text to the args', async (h) => {
    const withArgs = callback('success', { argsJson: '[1,"x"]' }, true);
    const noArgs = callback('success', { argsJson: '[]' }, true);
    const immutable = callback('success', { argsJson: '[1,"x"]' }, false);
    await h.enqueue({ callbacks: [withArgs, noArgs, immutable] });
    await h.completeOne('[0.1,[],{}]');
    assert.equal((await h.get(withArgs.job.id)).argsJson, '[[0.1,[],{}],1,"x"]');
    assert.equal((await h.get(noArgs.job.id)).argsJson, '[[0.1,[],{}]]');
    assert.equal((await h.get(immutable.job.id)).argsJson, '[1,"x"]');
  });

  test('callbacks: passResult prepends nothing when the parent did not succeed', async (h) => {
    const [onFailure, onFinal] = [callback('failure', { argsJson: '[1]' }, true), callback('final', { argsJson: '[]' }, true)];
    await h.enqueue({ callbacks: [onFailure, onFinal] });
    await h.settle(fail(await h.reserveOne()));
    assert.equal((await h.get(onFailure.job.id)).argsJson, '[1]');
    assert.equal((await h.get(onFinal.job.id)).argsJson, '[]');
  });

  test('callbacks: passResult and parent.resultJson keep the result byte for byte', async (h) => {
    // Numbers past double precision, 1.50, [] vs {}, escapes: re-encoding the JSON would change them.
    const result = '{"n":1.2345678901234567890,"f":1.50,"e":[],"o":{},"s":"\\u00e9\\n","big":12345678901234567890}';
    const cb = callback('success', { argsJson: '[{}]' }, true);
    const [parent] = await h.enqueue({ callbacks: [cb] });
    await h.completeOne(result);
    const record = await h.get(cb.job.id);
    assert.equal(record.argsJson, `[${result},{}]`);
    assert.equal(record.parent?.resultJson, result);
    assert.equal(record.parent?.id, parent.id);
  });

  test('callbacks: passResult with a null result prepends null, and parent.resultJson is the text null', async (h) => {
    // ParentInfo.resultJson is "JSON text of the parent's result when it succeeded": never null for a SUCCESS.
    const cb = callback('success', { argsJson: '[2]' }, true);
    await h.enqueue({ callbacks: [cb] });
    await h.completeOne(null);
    const record = await h.get(cb.job.id);
    assert.equal(record.argsJson, '[null,2]');
    assert.equal(record.parent?.resultJson, 'null');
  });

  test('callbacks: a callback is reserved at once with parent set', async (h) => {
    const cb = callback('success', { task: 'test.next', argsJson: '[3]' }, true);
    const [parent] = await h.enqueue({ task: 'test.parent', callbacks: [cb] });
    h.advance(SECOND);
    await h.completeOne('"r"');
    const [reserved] = await h.reserve({ queues: ['callbacks'], workerId: 'w2' });
    assert.deepEqual(reserved, {
      id: cb.job.id,
      task: 'test.next',
      queue: 'callbacks',
      argsJson: '["r",3]',
      attempt: 1,
      deliveries: 1,
      token: 1,
      enqueuedAt: T0 + SECOND,
      leaseExpiresAt: T0 + SECOND + LEASE_MS,
      parent: { id: parent.id, task: 'test.parent', state: 'SUCCESS', resultJson: '"r"', error: null },
    });
  });

  test('callbacks: a callback keeps its parent across its own retry, redelivery and the parent’s deletion', async (h) => {
    const cb = callback('final');
    const [parent] = await h.enqueue({ callbacks: [cb] });
    await h.settle(complete(await h.reserveOne(), '"p"', SECOND));
    h.advance(SECOND + 1);
    assert.equal(await h.store.jobsDeleteExpired(), 1);
    const first = await h.reserveOne({ queues: ['callbacks'] });
    await h.settle(retry(first, 0));
    await h.reserveOne({ queues: ['callbacks'] });
    await h.loseLeases();
    const third = await h.reserveOne({ queues: ['callbacks'] });
    assert.deepEqual(third.parent, { id: parent.id, task: parent.task, state: 'SUCCESS', resultJson: '"p"', error: null });
    assert.deepEqual(third.parent, first.parent);
  });

  test('callbacks: one settle batch finishing several parents fires each one’s callbacks', async (h) => {
    const cbs = [callback('success', { argsJson: '[]' }, true), callback('failure'), callback('final', { argsJson: '[]' })];
    const [a, b, c] = await h.enqueue({ priority: 2, callbacks: [cbs[0]] }, { priority: 1, callbacks: [cbs[1]] }, { callbacks: [cbs[2]] });
    const [ra, rb, rc] = await h.reserve({ limit: 3 });
    assert.deepEqual(await h.store.jobsSettle([complete(ra, '"a"'), fail(rb), complete(rc, '"c"')]), [ok(a.id), ok(b.id), ok(c.id)]);
    assert.equal((await h.get(cbs[0].job.id)).argsJson, '["a"]');
    assert.equal((await h.get(cbs[1].job.id)).parent?.id, b.id);
    assert.deepEqual([(await h.get(cbs[2].job.id)).argsJson, (await h.get(cbs[2].job.id)).parent?.resultJson], ['[]', '"c"']);
  });

  test('callbacks: the callbacks of one outcome are enqueued in the order declared', async (h) => {
    const cbs = [callback('final'), callback('success'), callback('final')];
    await h.enqueue({ callbacks: cbs });
    await h.completeOne();
    assert.deepEqual(
      (await h.reserve({ queues: ['callbacks'] })).map((j) => j.id),
      cbs.map((cb) => cb.job.id),
    );
  });
}

export function callbackTests(test: TestFn): void {
  outcomeTests(test);
  argsTests(test);
}
