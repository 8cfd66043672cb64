/**
 * The checker of `conveyor chaos` (src/chaos/verdict.ts), fed facts by hand: a run where every
 * invariant held passes, and each way an invariant can break — a payment charged twice or not at
 * all, a receipt and a refund for one payment, two holders of one executor, a job left running,
 * a chord called back twice, a worker that died on its own — fails exactly that row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doubleHolds, verdict, type ChaosFacts } from '../src/chaos/verdict.js';
import { COUNTERS, type Counters } from '../src/store/store.js';

function healthy(): ChaosFacts {
  const pays = [
    { id: 'p1', amount: 101, declined: false, state: 'SUCCESS' as const, error: null },
    { id: 'p2', amount: 107, declined: true, state: 'FAILURE' as const, error: { type: 'PermanentError', message: 'card declined for 107' } },
  ];
  return {
    pays,
    jobs: 6,
    notFinal: [],
    notices: [{ task: 'chaos.receipt', parent: 'p1' }, { task: 'chaos.refund', parent: 'p2' }],
    chord: { callbacks: [{ state: 'SUCCESS', result: 3 }], expected: 3 },
    ledger: {
      charges: [{ job: 'p1', amount: 101 }],
      chargeRequests: new Map([['p1', 2]]),
      receipts: [{ kind: 'receipt', parent: 'p1' }, { kind: 'refund', parent: 'p2' }],
      receiptRequests: 2,
      totals: [{ chord: 'c', total: 3 }],
      holds: [
        { pool: 'x', item: 'e1', token: 1, acquiredAt: 1_000, expiresAt: 4_000, releasing: true },
        { pool: 'x', item: 'e1', token: 3, acquiredAt: 2_000, expiresAt: 5_000, releasing: false },
        { pool: 'x', item: 'e1', token: 4, acquiredAt: 5_001, expiresAt: 8_001, releasing: true },
      ],
    },
    poolItems: [{ item: 'e1', holder: null, token: null, expiresAt: null }],
    counters: Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Counters,
    faults: { kill9: 2, sigstop: 1, 'clock-skew': 0, 'store-restart': 0 },
    skipped: { 'clock-skew': 'one machine' },
    recoverMs: 1_200,
    unexpectedExits: [],
  };
}

/** The invariants that failed, by name. */
const failed = (facts: ChaosFacts) => verdict(facts).rows.filter((r) => r.ok === false).map((r) => r.check);

describe('conveyor chaos: the checker', () => {
  it('passes a run where every invariant held, and reports the information rows', () => {
    const { ok, rows } = verdict(healthy());
    assert.equal(ok, true);
    assert.deepEqual(rows.find((r) => r.check.startsWith('charge requests'))?.observed, '2');
    assert.deepEqual(rows.find((r) => r.check.startsWith('time to recover'))?.observed, '1.2 s');
    assert.deepEqual(rows.find((r) => r.check === 'faults injected')?.observed, 'kill9 2, sigstop 1, clock-skew n/a, store-restart 0');
  });

  it('fails a payment charged twice, or not at all', () => {
    const twice = healthy();
    twice.ledger.charges.push({ job: 'p1', amount: 101 });
    assert.deepEqual(failed(twice), ['charges accepted per paid payment (effects per key)']);
    const never = healthy();
    never.ledger.charges = [];
    assert.deepEqual(failed(never), ['charges accepted per paid payment (effects per key)']);
    const declinedCharged = healthy();
    declinedCharged.ledger.charges.push({ job: 'p2', amount: 107 });
    assert.deepEqual(failed(declinedCharged), ['charges for declined payments']);
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
    const facts = healthy();
    facts.ledger.holds[1]!.acquiredAt = 3_999; // taken while token 1's lease still ran, not released
    facts.ledger.holds[0]!.releasing = false;
    assert.deepEqual(failed(facts), ['pool double holds']);
    assert.equal(doubleHolds(facts.ledger.holds), 1);
    const atExpiry = healthy();
    atExpiry.ledger.holds[2]!.acquiredAt = 5_000; // at the instant token 3's lease ends: not lapsed yet
    assert.equal(doubleHolds(atExpiry.ledger.holds), 1);
    const leftHeld = healthy();
    leftHeld.poolItems[0] = { item: 'e1', holder: 'someone', token: 9, expiresAt: 1 };
    assert.deepEqual(failed(leftHeld), ['pool items free at the end (lapsed leases reclaimed)']);
  });

  it('fails a job left running, a payment that ended wrong, a lost one, a chord called back twice, and a worker that died', () => {
    const stuck = healthy();
    stuck.notFinal.push({ id: 'r9', task: 'chaos.receipt', state: 'STARTED' });
    assert.deepEqual(failed(stuck), ['jobs final (none lost, none stuck)']);
    const wrong = healthy();
    wrong.pays[0]!.state = 'FAILURE';
    assert.deepEqual(failed(wrong), ['payments that ended as they should']);
    const lost = healthy();
    lost.pays[0]!.state = null;
    assert.ok(failed(lost).includes('payments sent and stored'));
    const twice = healthy();
    twice.chord.callbacks.push({ state: 'SUCCESS', result: 3 });
    twice.ledger.totals.push({ chord: 'c2', total: 3 });
    assert.deepEqual(failed(twice), ['chord callbacks', 'chord totals booked']);
    const died = healthy();
    died.unexpectedExits.push('worker pid 1 exited (1) on its own: boom');
    assert.deepEqual(failed(died), ['worker processes that died on their own']);
  });
});
