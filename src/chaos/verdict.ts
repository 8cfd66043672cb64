/**
 * The checker of `conveyor chaos`: from what the store and the ledger hold once the run is over,
 * the invariants of "at-least-once delivery, exactly-once effects, nothing lost", one row each.
 * Pure: the facts in, the rows out, so that every way an invariant can break is a unit test.
 */
import type { ErrorInfo } from '../errors.js';
import type { JobState } from '../states.js';
import type { Counters, PoolItem } from '../store/store.js';
import type { LedgerFacts } from './ledger.js';

/** The faults a run can inject. */
export const FAULTS = ['kill9', 'sigstop', 'clock-skew', 'store-restart'] as const;
export type FaultName = (typeof FAULTS)[number];

/** What the run saw, for the checker. */
export interface ChaosFacts {
  /** The payments sent, with their amount and whether the scenario declines them. */
  pays: { id: string; amount: number; declined: boolean; state: JobState | null; error: ErrorInfo | null }[];
  /** Every job of the run's store, and those that are not final (nothing may be left waiting or running). */
  jobs: number;
  notFinal: { id: string; task: string; state: JobState }[];
  /** Receipt and refund jobs, by the payment that fired them. */
  notices: { task: string; parent: string | null }[];
  /** The chord: its callback's job, and the total its parts add up to. */
  chord: { callbacks: { state: JobState; result: unknown }[]; expected: number };
  ledger: LedgerFacts;
  poolItems: PoolItem[];
  counters: Counters;
  faults: Record<FaultName, number>;
  /** Faults asked for that do not apply to this store, with why. */
  skipped: Partial<Record<FaultName, string>>;
  /** From the end of the last fault to every job final, in ms (null: no fault, or never). */
  recoverMs: number | null;
  /** Worker processes that ended on their own, with the end of their output. */
  unexpectedExits: string[];
}

/** One line of the verdict table. `ok: null` is information, not an invariant. */
export interface VerdictRow {
  check: string;
  expected: string;
  observed: string;
  ok: boolean | null;
}

const times = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Count how many payments have each number of `things`, as "1 × 40" or "0 × 1, 1 × 39". */
function spread(perPay: number[]): string {
  const counts = new Map<number, number>();
  for (const n of perPay) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([n, k]) => `${n} × ${k}`).join(', ') || 'none';
}

/**
 * Consecutive holds of one item where the later was taken while the earlier lease was still
 * valid on the store's clock (and its holder had not begun to release it): two holders at once.
 */
export function doubleHolds(holds: LedgerFacts['holds']): number {
  let doubles = 0;
  const byItem = new Map<string, LedgerFacts['holds']>();
  for (const h of holds) byItem.set(`${h.pool}\u0000${h.item}`, [...(byItem.get(`${h.pool}\u0000${h.item}`) ?? []), h]);
  for (const list of byItem.values()) {
    const ordered = [...list].sort((a, b) => a.token - b.token);
    for (let i = 1; i < ordered.length; i++) {
      const [before, after] = [ordered[i - 1]!, ordered[i]!];
      // A lease lapses once the clock is past its expiry, so a later acquire at its expiry or before is a double hold.
      if (!before.releasing && before.expiresAt >= after.acquiredAt) doubles++;
    }
  }
  return doubles;
}

/** The verdict: one row per invariant (and a few of information), and whether every invariant held. */
export function verdict(facts: ChaosFacts): { rows: VerdictRow[]; ok: boolean } {
  const rows: VerdictRow[] = [];
  const check = (name: string, expected: string, observed: string, ok: boolean | null) => rows.push({ check: name, expected, observed, ok });
  const paid = facts.pays.filter((p) => !p.declined);
  const declinedPays = facts.pays.filter((p) => p.declined);

  const lost = facts.pays.filter((p) => p.state === null);
  check('jobs final (none lost, none stuck)', `${facts.jobs} of ${facts.jobs}`, facts.notFinal.length === 0 ? `${facts.jobs} of ${facts.jobs}`
    : `${facts.notFinal.length} not final: ${facts.notFinal.slice(0, 3).map((j) => `${j.task} ${j.id} ${j.state}`).join('; ')}`, facts.notFinal.length === 0);
  check('payments sent and stored', String(facts.pays.length), lost.length === 0 ? String(facts.pays.length) : `${lost.length} missing: ${lost.slice(0, 3).map((p) => p.id).join(', ')}`, lost.length === 0);

  const wrong = facts.pays.filter((p) => (p.declined ? p.state !== 'FAILURE' || p.error?.type !== 'PermanentError' : p.state !== 'SUCCESS'));
  check('payments that ended as they should', `${paid.length} SUCCESS, ${declinedPays.length} declined (FAILURE)`,
    wrong.length === 0 ? 'all' : `${wrong.length} did not: ${wrong.slice(0, 3).map((p) => `${p.id} ${p.state}${p.error ? ` ${p.error.type}` : ''}`).join('; ')}`, wrong.length === 0);

  const chargesOf = new Map<string, number>();
  for (const c of facts.ledger.charges) chargesOf.set(c.job, (chargesOf.get(c.job) ?? 0) + 1);
  const perPaid = paid.map((p) => chargesOf.get(p.id) ?? 0);
  check('charges accepted per paid payment (effects per key)', `1 × ${paid.length}`, spread(perPaid), perPaid.every((n) => n === 1));
  const declinedCharged = declinedPays.filter((p) => chargesOf.has(p.id)).length;
  check('charges for declined payments', '0', String(declinedCharged), declinedCharged === 0);
  const requests = [...facts.ledger.chargeRequests.values()].reduce((a, b) => a + b, 0);
  check('charge requests the gateway saw (repeats absorbed by the step key)', `>= ${paid.length}`, String(requests), null);

  const noticesOf = (task: string, parent: string) => facts.notices.filter((n) => n.task === task && n.parent === parent).length;
  const badNotices = facts.pays.filter((p) => noticesOf('chaos.receipt', p.id) !== (p.declined ? 0 : 1) || noticesOf('chaos.refund', p.id) !== (p.declined ? 1 : 0));
  check('callbacks per payment (receipt or refund, never both)', `1 × ${facts.pays.length}`,
    badNotices.length === 0 ? `1 × ${facts.pays.length}` : `${badNotices.length} payments wrong: ${badNotices.slice(0, 3).map((p) => p.id).join(', ')}`, badNotices.length === 0);
  const sent = (kind: string, parent: string) => facts.ledger.receipts.filter((r) => r.kind === kind && r.parent === parent).length;
  const badSent = facts.pays.filter((p) => sent('receipt', p.id) !== (p.declined ? 0 : 1) || sent('refund', p.id) !== (p.declined ? 1 : 0));
  check('receipts and refunds the mail service accepted', `1 × ${facts.pays.length}`,
    badSent.length === 0 ? `1 × ${facts.pays.length}` : `${badSent.length} payments wrong: ${badSent.slice(0, 3).map((p) => p.id).join(', ')}`, badSent.length === 0);

  const chordOk = facts.chord.callbacks.length === 1 && facts.chord.callbacks[0]!.state === 'SUCCESS' && facts.chord.callbacks[0]!.result === facts.chord.expected;
  check('chord callbacks', `1, total ${facts.chord.expected}`,
    facts.chord.callbacks.map((c) => `${c.state} ${JSON.stringify(c.result)}`).join('; ') || 'none', chordOk);
  const totalsOk = facts.ledger.totals.length === 1 && facts.ledger.totals[0]!.total === facts.chord.expected;
  check('chord totals booked', `1 (${facts.chord.expected})`, facts.ledger.totals.map((t) => String(t.total)).join(', ') || 'none', totalsOk);

  const doubles = doubleHolds(facts.ledger.holds);
  check('pool double holds', '0', `${doubles} (of ${times(facts.ledger.holds.length, 'hold')})`, doubles === 0);
  const held = facts.poolItems.filter((i) => i.holder !== null);
  check('pool items free at the end (lapsed leases reclaimed)', `${facts.poolItems.length} of ${facts.poolItems.length}`, `${facts.poolItems.length - held.length} of ${facts.poolItems.length}`, held.length === 0);

  check('worker processes that died on their own', '0', facts.unexpectedExits.length === 0 ? '0' : `${facts.unexpectedExits.length}: ${facts.unexpectedExits[0]}`, facts.unexpectedExits.length === 0);

  const injected = (Object.keys(facts.faults) as FaultName[]).map((f) => `${f} ${facts.skipped[f] ? 'n/a' : facts.faults[f]}`).join(', ');
  check('faults injected', 'as asked', injected, null);
  check('time to recover (last fault healed → every job final)', '', facts.recoverMs === null ? '-' : `${(facts.recoverMs / 1000).toFixed(1)} s`, null);
  for (const [name, value] of Object.entries(facts.counters)) check(`counter ${name}`, '', String(value), null);
  return { rows, ok: rows.every((r) => r.ok !== false) };
}
