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
  /** How many jobs the run makes: each payment and its receipt or refund, the chord's parts and its callback. */
  expectedJobs: number;
  /** Every job of the run's store, and those that are not final (nothing may be left waiting or running). */
  jobs: number;
  notFinal: { id: string; task: string; state: JobState }[];
  /** Receipt and refund jobs, by the payment that fired them. */
  notices: { task: string; parent: string | null }[];
  /** The chord's callback (null: there is none), and the total its parts add up to. */
  chord: { callback: { state: JobState; result: unknown } | null; expected: number };
  /** For each job whose effect's step is recorded, the fencing token of the delivery that recorded it. */
  stepTokens: Map<string, number>;
  ledger: LedgerFacts;
  poolItems: PoolItem[];
  counters: Counters;
  /** Injections of each fault asked for. */
  faults: Partial<Record<FaultName, number>>;
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
 * valid on the store's clock and had not been handed over (its holder wrote that it was
 * releasing before the later holder wrote that it held): two holders at once. From outside the
 * store, a second holder between a holder's word that it is releasing and its release cannot be
 * told apart from a handover.
 */
export function doubleHolds(holds: LedgerFacts['holds']): number {
  let doubles = 0;
  const byItem = new Map<string, LedgerFacts['holds']>();
  for (const h of holds) {
    const key = `${h.pool}\u0000${h.item}`;
    const list = byItem.get(key);
    if (list) list.push(h);
    else byItem.set(key, [h]);
  }
  for (const list of byItem.values()) {
    list.sort((a, b) => a.token - b.token);
    for (let i = 1; i < list.length; i++) {
      const [before, after] = [list[i - 1]!, list[i]!];
      const handedOver = before.releasingTick !== null && before.releasingTick < after.heldTick;
      // A lease lapses once the clock is past its expiry, so a later acquire at its expiry or before is a double hold.
      if (!handedOver && after.acquiredAt <= before.expiresAt) doubles++;
    }
  }
  return doubles;
}

/** Effect calls made by a delivery after an earlier one recorded the effect's step: the step ran again instead of replaying. */
export function stepRepeats(facts: Pick<ChaosFacts, 'ledger' | 'stepTokens'>): LedgerFacts['requests'] {
  return facts.ledger.requests.filter((r) => {
    const recorder = facts.stepTokens.get(r.job);
    return recorder !== undefined && r.token > recorder;
  });
}

/** The verdict: one row per invariant (and a few of information), and whether every invariant held. */
export function verdict(facts: ChaosFacts): { rows: VerdictRow[]; ok: boolean } {
  const rows: VerdictRow[] = [];
  const check = (name: string, expected: string, observed: string, ok: boolean | null) => rows.push({ check: name, expected, observed, ok });
  const paid = facts.pays.filter((p) => !p.declined);
  const declinedPays = facts.pays.filter((p) => p.declined);

  const finalJobs = facts.jobs - facts.notFinal.length;
  const stuck = facts.notFinal.slice(0, 3).map((j) => `${j.task} ${j.id} ${j.state}`).join('; ');
  check('jobs final (none lost, none stuck, none extra)', `${facts.expectedJobs} final`,
    `${finalJobs} final${facts.notFinal.length > 0 ? `, ${facts.notFinal.length} not: ${stuck}` : ''}`, facts.jobs === facts.expectedJobs && facts.notFinal.length === 0);
  const lost = facts.pays.filter((p) => p.state === null);
  check('payments sent and stored', String(facts.pays.length), lost.length === 0 ? String(facts.pays.length) : `${lost.length} missing: ${lost.slice(0, 3).map((p) => p.id).join(', ')}`, lost.length === 0);

  const wrong = facts.pays.filter((p) => (p.declined ? p.state !== 'FAILURE' || p.error?.type !== 'PermanentError' : p.state !== 'SUCCESS'));
  check('payments that ended as they should', `${paid.length} SUCCESS, ${declinedPays.length} declined (FAILURE)`,
    wrong.length === 0 ? 'all' : `${wrong.length} did not: ${wrong.slice(0, 3).map((p) => `${p.id} ${p.state}${p.error ? ` ${p.error.type}` : ''}`).join('; ')}`, wrong.length === 0);

  const chargesOf = new Map<string, number>();
  for (const c of facts.ledger.charges) chargesOf.set(c.job, (chargesOf.get(c.job) ?? 0) + 1);
  const perPaid = paid.map((p) => chargesOf.get(p.id) ?? 0);
  check('charges accepted per paid payment', `1 × ${paid.length}`, spread(perPaid), perPaid.every((n) => n === 1));
  const declinedCharged = declinedPays.filter((p) => chargesOf.has(p.id)).length;
  check('charges for declined payments', '0', String(declinedCharged), declinedCharged === 0);
  const repeats = stepRepeats(facts);
  check('effects asked for again after their step was recorded', '0',
    repeats.length === 0 ? '0' : `${repeats.length}: ${repeats.slice(0, 3).map((r) => `${r.kind} of ${r.job} by delivery ${r.token}`).join('; ')}`, repeats.length === 0);
  const requested = new Map<string, number>();
  for (const r of facts.ledger.requests) requested.set(r.kind, (requested.get(r.kind) ?? 0) + 1);
  check('effect requests the services saw (repeats of a delivery that died mid-step)', '',
    [...requested].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none', null);

  const noticesOf = (task: string, parent: string) => facts.notices.filter((n) => n.task === task && n.parent === parent).length;
  const badNotices = facts.pays.filter((p) => noticesOf('chaos.receipt', p.id) !== (p.declined ? 0 : 1) || noticesOf('chaos.refund', p.id) !== (p.declined ? 1 : 0));
  check('callbacks per payment (receipt or refund, never both)', `1 × ${facts.pays.length}`,
    badNotices.length === 0 ? `1 × ${facts.pays.length}` : `${badNotices.length} payments wrong: ${badNotices.slice(0, 3).map((p) => p.id).join(', ')}`, badNotices.length === 0);
  const sent = (kind: string, parent: string) => facts.ledger.receipts.filter((r) => r.kind === kind && r.parent === parent).length;
  const badSent = facts.pays.filter((p) => sent('receipt', p.id) !== (p.declined ? 0 : 1) || sent('refund', p.id) !== (p.declined ? 1 : 0));
  check('receipts and refunds the mail service accepted', `1 × ${facts.pays.length}`,
    badSent.length === 0 ? `1 × ${facts.pays.length}` : `${badSent.length} payments wrong: ${badSent.slice(0, 3).map((p) => p.id).join(', ')}`, badSent.length === 0);

  const cb = facts.chord.callback;
  check('chord callback', `SUCCESS ${facts.chord.expected}`, cb ? `${cb.state} ${JSON.stringify(cb.result)}` : 'none',
    cb?.state === 'SUCCESS' && cb.result === facts.chord.expected);
  check('chord total booked', String(facts.chord.expected), facts.ledger.totals.map((t) => String(t.total)).join(', ') || 'none',
    facts.ledger.totals.length === 1 && facts.ledger.totals[0]!.total === facts.chord.expected);

  const doubles = doubleHolds(facts.ledger.holds);
  check('pool double holds', '0', `${doubles} (of ${times(facts.ledger.holds.length, 'hold')})`, doubles === 0);
  const held = facts.poolItems.filter((i) => i.holder !== null);
  check('pool items free at the end (lapsed leases reclaimed)', `${facts.poolItems.length} of ${facts.poolItems.length}`, `${facts.poolItems.length - held.length} of ${facts.poolItems.length}`, held.length === 0);

  check('worker processes that died on their own', '0', facts.unexpectedExits.length === 0 ? '0' : `${facts.unexpectedExits.length}: ${facts.unexpectedExits[0]}`, facts.unexpectedExits.length === 0);

  // A run that did not inject a fault it was asked for did not test what it says.
  const asked = Object.keys(facts.faults) as FaultName[];
  const injected = asked.map((f) => `${f} ${facts.skipped[f] ? 'n/a' : facts.faults[f]}`).join(', ');
  check('faults injected (each that applies, at least once)', asked.length === 0 ? 'none asked' : 'each >= 1', injected || 'none',
    asked.every((f) => facts.skipped[f] !== undefined || (facts.faults[f] ?? 0) >= 1));
  check('time to recover (last fault healed → every job final)', '', facts.recoverMs === null ? '-' : `${(facts.recoverMs / 1000).toFixed(1)} s`, null);
  for (const [name, value] of Object.entries(facts.counters)) check(`counter ${name}`, '', String(value), null);
  return { rows, ok: rows.every((r) => r.ok !== false) };
}
