/**
 * The checker of `conveyor chaos` (src/chaos/verdict.ts), fed facts by hand: a run where every
 * invariant held passes, and each way an invariant can break — a payment charged twice or not at
 * all, an effect asked for again after its step was recorded, a receipt and a refund for one
 * payment, two holders of one executor, a job left running or one too many, a chord callback
 * missing or wrong, a worker that died on its own, a fault asked for and never injected — fails
 * exactly that row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doubleHolds, stepRepeats, verdict, type ChaosFacts } from '../src/chaos/verdict.js';
import { COUNTERS, type Counters } from '../src/store/store.js';

function healthy(): ChaosFacts {
  const pays = [
    { id: 'p1', amount: 101, declined: false, state: 'SUCCESS' as const, error: null },
    { id: 'p2', amount: 107, declined: true, state: 'FAILURE' as const, error: { type: 'PermanentError', message: 'card declined for 107' } },
  ];
  return {
    pays,
    expectedJobs: 6,
    jobs: 6,
    notFinal: [],
    notices: [{ task: 'chaos.receipt', parent: 'p1' }, { task: 'chaos.refund', parent: 'p2' }],
    chord: { callback: { state: 'SUCCESS', result: 3 }, expected: 3 },
    // p1's first delivery charged and died before recording the step; the second recorded it.
    stepTokens: new Map([['p1', 2], ['r1', 1], ['r2', 1], ['c', 1]]),
    ledger: {
      requests: [
        { kind: 'charge', job: 'p1', token: 1 }, { kind: 'charge', job: 'p1', token: 2 },
        { kind: 'receipt', job: 'r1', token: 1 }, { kind: 'refund', job: 'r2', token: 1 }, { kind: 'total', job: 'c', token: 1 },
      ],
      charges: [{ job: 'p1', amount: 101 }],
      receipts: [{ kind: 'receipt', parent: 'p1' }, { kind: 'refund', parent: 'p2' }],
      totals: [{ chord: 'c', total: 3 }],
      holds: [
        // Handed over before its lease ended: token 1 said it was releasing (tick 3) before token 3 held (tick 4).
        { pool: 'x', item: 'e1', token: 1, acquiredAt: 1_000, expiresAt: 4_000, heldTick: 1, releasingTick: 3 },
        // Its holder was killed: token 4 took it once the lease had lapsed.
        { pool: 'x', item: 'e1', token: 3, acquiredAt: 2_000, expiresAt: 5_000, heldTick: 4, releasingTick: null },
        { pool: 'x', item: 'e1', token: 4, acquiredAt: 5_001, expiresAt: 8_001, heldTick: 6, releasingTick: 7 },
      ],
    },
    poolItems: [{ item: 'e1', holder: null, token: null, expiresAt: null }],
    counters: Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Counters,
    faults: { kill9: 2, sigstop: 1, 'clock-skew': 0 },
    skipped: { 'clock-skew': 'one machine' },
    recoverMs: 1_200,
    unexpectedExits: [],
  };
}

/** The invariants that failed, by name. */
const failed = (facts: ChaosFacts) => verdict(facts).rows.filter((r) => r.ok === false).map((r) => r.check);
const observed = (facts: ChaosFacts, check: string) => verdict(facts).rows.find((r) => r.check === check)?.observed;

describe('conveyor chaos: the checker', () => {
  it('passes a run where every invariant held, and reports the information rows', () => {
    const facts = healthy();
    const { ok } = verdict(facts);
    assert.equal(ok, true);
    assert.equal(observed(facts, 'effect requests the services saw (repeats of a delivery that died mid-step)'), 'charge 2, receipt 1, refund 1, total 1');
    assert.equal(observed(facts, 'time to recover (last fault healed → every job final)'), '1.2 s');
    assert.equal(observed(facts, 'faults injected (each that applies, at least once)'), 'kill9 2, sigstop 1, clock-skew n/a');
    assert.equal(observed(facts, 'pool double holds'), '0 (of 3 holds)');
  });

  it('fails a payment charged twice, or not at all, or charged when declined', () => {
    const twice = healthy();
    twice.ledger.charges.push({ job: 'p1', amount: 101 });
    assert.deepEqual(failed(twice), ['charges accepted per paid payment']);
    assert.equal(observed(twice, 'charges accepted per paid payment'), '2 × 1');
    const never = healthy();
    never.ledger.charges = [];
    assert.deepEqual(failed(never), ['charges accepted per paid payment']);
    const declinedCharged = healthy();
    declinedCharged.ledger.charges.push({ job: 'p2', amount: 107 });
    assert.deepEqual(failed(declinedCharged), ['charges for declined payments']);
  });

  it('fails an effect asked for by a delivery after an earlier one recorded its step (the step ran again)', () => {
    const again = healthy();
    again.ledger.requests.push({ kind: 'charge', job: 'p1', token: 3 });
    assert.deepEqual(failed(again), ['effects asked for again after their step was recorded']);
    assert.equal(observed(again, 'effects asked for again after their step was recorded'), '1: charge of p1 by delivery 3');
    assert.deepEqual(stepRepeats(again), [{ kind: 'charge', job: 'p1', token: 3 }]);
  });

  it('fails a payment with both a receipt and a refund, or with none', () => {
    const both = healthy();
    both.notices.push({ task: 'chaos.refund', parent: 'p1' });
    both.ledger.receipts.push({ kind: 'refund', parent: 'p1' });
    assert.deepEqual(failed(both), ['callbacks per payment (receipt or refund, never both)', 'receipts and refunds the mail service accepted']);
    const none = healthy();
    none.notices = none.notices.filter((n) => n.parent !== 'p2');
    assert.deepEqual(failed(none), ['callbacks per payment (receipt or refund, never both)']);
  });

  it('fails two holders of one executor at once, and an executor left held', () => {
    const early = healthy();
    early.ledger.holds[1]!.heldTick = 2; // token 3 held it before token 1 began to release, its lease still valid
    assert.deepEqual(failed(early), ['pool double holds']);
    const finishedLate = healthy();
    finishedLate.ledger.holds[0]!.releasingTick = 5; // token 1 went on working (its lease valid) after token 3 took the item
    assert.equal(doubleHolds(finishedLate.ledger.holds), 1);
    const atExpiry = healthy();
    atExpiry.ledger.holds[2]!.acquiredAt = 5_000; // at the instant token 3's lease ends: not lapsed yet
    assert.equal(doubleHolds(atExpiry.ledger.holds), 1);
    const leftHeld = healthy();
    leftHeld.poolItems[0] = { item: 'e1', holder: 'someone', token: 9, expiresAt: 1 };
    assert.deepEqual(failed(leftHeld), ['pool items free at the end (lapsed leases reclaimed)']);
  });

  it('fails a job left running, an extra job, a payment that ended wrong, and a lost one', () => {
    const stuck = healthy();
    stuck.notFinal.push({ id: 'r9', task: 'chaos.receipt', state: 'STARTED' });
    assert.deepEqual(failed(stuck), ['jobs final (none lost, none stuck, none extra)']);
    assert.equal(observed(stuck, 'jobs final (none lost, none stuck, none extra)'), '5 final, 1 not: chaos.receipt r9 STARTED');
    const extra = healthy();
    extra.jobs = 7;
    assert.deepEqual(failed(extra), ['jobs final (none lost, none stuck, none extra)']);
    const wrong = healthy();
    wrong.pays[0]!.state = 'FAILURE';
    assert.deepEqual(failed(wrong), ['payments that ended as they should']);
    const lost = healthy();
    lost.pays[0]!.state = null;
    assert.deepEqual(failed(lost), ['payments sent and stored', 'payments that ended as they should']);
  });

  it('fails a chord whose callback is missing, failed or got the wrong total', () => {
    const missing = healthy();
    missing.chord.callback = null;
    missing.ledger.totals = [];
    assert.deepEqual(failed(missing), ['chord callback', 'chord total booked']);
    const wrongTotal = healthy();
    wrongTotal.chord.callback = { state: 'SUCCESS', result: 4 };
    wrongTotal.ledger.totals = [{ chord: 'c', total: 4 }];
    assert.deepEqual(failed(wrongTotal), ['chord callback', 'chord total booked']);
    const failedCb = healthy();
    failedCb.chord.callback = { state: 'FAILURE', result: null };
    assert.deepEqual(failed(failedCb), ['chord callback']);
  });

  it('fails a worker that died on its own, and a run that did not inject a fault it was asked for', () => {
    const died = healthy();
    died.unexpectedExits.push('worker pid 1 exited (1) on its own: boom');
    assert.deepEqual(failed(died), ['worker processes that died on their own']);
    const idle = healthy();
    idle.faults.sigstop = 0;
    assert.deepEqual(failed(idle), ['faults injected (each that applies, at least once)']);
  });
});
