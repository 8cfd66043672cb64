/**
 * Chaos: three worker processes on one store, SIGKILLed at random moments and replaced, until
 * every payment is done. Then every job's effect must have happened once, as the outside world
 * sees it.
 *
 * The outside world is a pretend payment gateway (test/fixtures/gateway.ts) that honours
 * idempotency keys. A step's function may run again when its worker dies between the gateway
 * call and the step's record (at-least-once, by design: see `ctx.step`); the step key sent as
 * the idempotency key makes the repeat harmless, so the gateway's ACCEPTED charges are exactly
 * one per job. How often the function ran is reported, not asserted: it depends on where the
 * kills land.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { prng } from '../../src/chaos/prng.js';
import { createLedger, ledgerPath, readLedger } from '../fixtures/gateway.js';
import { effectRecords, scratch, startWorker, STORES, tail, waitFor, type WorkerProcess } from './processes.js';

const JOBS = 40;
const WORKERS = 3;
const KILLS = 6;
const FLAGS = ['--concurrency', '3', '--lease', '1s'];

interface PayResult { ref: string; amount: number; pid: number; token: number }

for (const store of STORES) describe(`kill -9 workers at random until every payment is done (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  it('every job succeeds, with one accepted charge and one receipt each, and no linkError', { timeout: 90_000 }, async (t) => {
    const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed ${seed} (CHAOS_SEED=${seed} replays the same amounts, work times and choices of victim)`);
    const rand = prng(seed);
    // Deliveries are lost on purpose here: never let a job fail with WorkerLostError.
    const app = s.app({ maxDeliveries: 100 });
    // Stand-ins for the fixture's tasks, only to make their signatures: the workers run the real ones.
    const receipt = app.task({ name: 'receipt' }, () => null);
    const refund = app.task({ name: 'refund' }, () => null);

    createLedger(ledgerPath(s.effectsFile));
    const workers: WorkerProcess[] = await Promise.all(Array.from({ length: WORKERS }, () => startWorker(s.storeUrl, s.effectsFile, FLAGS)));
    const outputs = () => tail(workers.map((w) => w.output()).join('\n'));
    const sent = new Map<string, number>(); // id -> amount
    for (let i = 0; i < JOBS; i++) {
      const amount = 100 + i;
      const r = await app.send('pay', [amount, 300 + Math.floor(rand() * 700)], { link: receipt.s(), linkError: refund.s() });
      sent.set(r.id, amount);
    }
    const ids = [...sent.keys()];
    // The last look at the store, for a failure message: what is not done yet, and in what state.
    let unfinished = '';
    const allDone = async () => {
      const [pays, receipts] = await Promise.all([app.store.jobsList({ task: 'pay', limit: 1000 }), app.store.jobsList({ task: 'receipt', limit: 1000 })]);
      const open = [...pays, ...receipts].filter((j) => j.state !== 'SUCCESS');
      unfinished = `${pays.length} pay jobs, ${receipts.length} receipt jobs stored; not SUCCESS: ${JSON.stringify(open.map((j) => ({
        id: j.id, task: j.task, state: j.state, token: j.token, deliveries: j.deliveries, worker: j.worker, leaseExpiresAt: j.leaseExpiresAt, error: j.error,
      })))}; now ${Date.now()}`;
      // A failed job never comes back (no retry policy): say so now rather than wait out the timeout.
      if (open.some((j) => j.state === 'FAILURE')) throw new Error(`a job failed: ${unfinished}`);
      return pays.length === JOBS && receipts.length === JOBS && open.length === 0;
    };

    // Kill a worker that holds running jobs, at a random moment, and start its replacement.
    let kills = 0;
    const deadline = Date.now() + 40_000;
    while (kills < KILLS && Date.now() < deadline && !(await allDone())) {
      await sleep(100 + Math.floor(rand() * 400)); // a random moment, not a wait for a condition
      const running = await app.store.jobsList({ states: ['STARTED'], limit: 1000 });
      const busy = workers.filter((w) => running.some((j) => j.worker?.includes(`:${w.child.pid}:`)));
      if (busy.length === 0) continue;
      const victim = busy[Math.floor(rand() * busy.length)]!;
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');
      kills++;
      workers.splice(workers.indexOf(victim), 1, await startWorker(s.storeUrl, s.effectsFile, FLAGS));
    }
    await waitFor('every payment and receipt to succeed', allDone, 40_000, () => `${unfinished}\n${outputs()}`);
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, tail(w.output()));
    assert.ok(kills >= 2, `the chaos happened: ${kills} kills`);

    const pays = await app.store.jobsList({ task: 'pay', limit: 1000 });
    assert.deepEqual(new Set(pays.map((j) => j.id)), new Set(ids));
    assert.ok(pays.every((j) => j.state === 'SUCCESS'), 'every payment succeeded');
    const redelivered = pays.filter((j) => j.token > 1);
    assert.ok(redelivered.length >= 1, 'some job lost a worker mid-run and was delivered again');

    // The gateway accepted exactly one charge per job, under its step key, for the amount sent.
    const ledger = readLedger(ledgerPath(s.effectsFile));
    const charges = ledger.filter((e) => e.book === 'charge');
    assert.equal(charges.length, JOBS, 'one accepted charge per job');
    const chargeOf = new Map(charges.map((c) => [c.key, c]));
    for (const id of ids) {
      const c = chargeOf.get(`${id}:charge`);
      assert.ok(c, `job ${id} was charged`);
      assert.deepEqual(JSON.parse(c.body), { amount: sent.get(id), job: id });
    }

    // Each job's step recorded once, with what the gateway accepted, and its result says the same.
    const requests = effectRecords(s.effectsFile).filter((e) => e.kind === 'charge-request');
    let replaysAtLeast = 0;
    let replaysAtMost = 0;
    for (const job of pays) {
      const ref = chargeOf.get(`${job.id}:charge`)!.ref;
      const steps = await app.store.jobSteps(job.id);
      assert.equal(steps.length, 1, `job ${job.id}: one step recorded`);
      const [step] = steps;
      assert.equal(step!.name, 'charge');
      assert.equal((JSON.parse(step!.resultJson) as { ref: string }).ref, ref, `job ${job.id}: the step recorded the accepted charge`);
      const result = JSON.parse(job.resultJson!) as PayResult;
      assert.deepEqual({ ref: result.ref, amount: result.amount, token: result.token }, { ref, amount: sent.get(job.id), token: job.token });
      // The step's function runs at most once per delivery, and at least once.
      const runs = requests.filter((e) => e.key === `${job.id}:charge`);
      assert.ok(runs.length >= 1 && runs.length <= job.token, `job ${job.id}: step ran ${runs.length} times in ${job.token} deliveries`);
      assert.ok(runs.every((e) => e.token <= step!.token), `job ${job.id}: no delivery after the record ran the step's function`);
      // The last delivery found the step recorded by an earlier one: a replay. Deliveries after
      // the recording one, killed or not, replayed at most once each.
      if (step!.token < job.token) replaysAtLeast++;
      replaysAtMost += job.token - step!.token;
    }
    const counters = await app.counters();
    assert.ok(counters.steps_replayed_total >= replaysAtLeast && counters.steps_replayed_total <= replaysAtMost,
      `steps_replayed_total ${counters.steps_replayed_total} is between ${replaysAtLeast} and ${replaysAtMost}`);

    // Callbacks: one receipt job per payment, given its result, and one receipt at the gateway.
    const receipts = await app.store.jobsList({ task: 'receipt', limit: 1000 });
    assert.equal(receipts.length, JOBS, 'one receipt job per payment');
    assert.deepEqual(new Set(receipts.map((j) => j.parent?.id)), new Set(ids));
    for (const j of receipts) {
      const parent = pays.find((p) => p.id === j.parent!.id)!;
      assert.equal(j.state, 'SUCCESS');
      assert.deepEqual((JSON.parse(j.argsJson) as unknown[])[0], JSON.parse(parent.resultJson!), 'the receipt got its payment\'s result');
    }
    const sentReceipts = ledger.filter((e) => e.book === 'receipt');
    assert.equal(sentReceipts.length, JOBS, 'one accepted receipt per payment');
    assert.deepEqual(new Set(sentReceipts.map((e) => e.key)), new Set(ids));
    assert.deepEqual(await app.store.jobsList({ task: 'refund', limit: 1000 }), [], 'no linkError was enqueued');
    assert.deepEqual(effectRecords(s.effectsFile).filter((e) => e.kind === 'refund'), [], 'no linkError ran');
    assert.equal(counters.duplicates_suppressed_total, 0);
    assert.equal(counters.callbacks_deduplicated_total, 0, 'each payment became final once, so fired once');

    const receiptRuns = effectRecords(s.effectsFile).filter((e) => e.kind === 'receipt').length;
    t.diagnostic(`${kills} kills; ${redelivered.length}/${JOBS} payments delivered again (most deliveries: ${Math.max(...pays.map((j) => j.token))})`);
    t.diagnostic(`charge step function ran ${requests.length} times for ${JOBS} jobs (${requests.length - JOBS} repeats absorbed by the idempotency key); receipt handler ran ${receiptRuns} times for ${JOBS} receipts`);
    t.diagnostic(`counters ${JSON.stringify(counters)}`);
    await app.close();
  });
});
