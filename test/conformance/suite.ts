/**
 * The store conformance suite: ONE set of tests every `Store` engine must pass unchanged.
 *
 * An engine's test file is a few lines: it passes a factory and, for tests it cannot pass yet,
 * a skip with a written reason.
 *
 * @example
 * runStoreConformance({
 *   name: 'SqliteStore',
 *   open: ({ clock, shared }) => new SqliteStore(shared ? file : (file = freshFile()), { clock }),
 *   skip: { 'waitForChange resolves early when a scheduled job of a watched queue comes due': 'polls every 1 s' },
 * });
 *
 * Every test opens a fresh store through `open` with a fake clock it advances by hand (no test
 * sleeps to let time pass; only `waitForChange` tests wait, ≤ 300 ms of real time), and closes
 * every handle it opened afterwards.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import { adminTests } from './admin.js';
import { badInputTests } from './bad-input.js';
import { callbackOnceTests } from './callbacks-once.js';
import { callbackTests } from './callbacks.js';
import { chordTests } from './chords.js';
import { dedupTests } from './dedup.js';
import { deliveryTests } from './deliveries.js';
import { enqueueTests } from './enqueue.js';
import { followerTests } from './followers.js';
import { Harness, type Database, type OpenStore, type TestFn } from './harness.js';
import { leaseTests } from './leases.js';
import { operationTests } from './operations.js';
import { poolTests } from './pools.js';
import { reserveTests } from './reserve.js';
import { settleTests } from './settle.js';
import { stepTests } from './steps.js';
import { transactionTests } from './transactions.js';
import { waitAndContentionTests } from './wait-contention.js';

export type { OpenParams, OpenStore } from './harness.js';

/** Options of {@link runStoreConformance}. */
export interface ConformanceOptions {
  /** The engine's name, shown in the test report. */
  name: string;
  /**
   * Open a store with the suite's clock. `shared: false` must give a fresh, empty store;
   * `shared: true` another handle on the storage opened last in the same test (the same SQLite
   * file), used by the contention tests. See {@link OpenParams}.
   */
  open: OpenStore;
  /** Tests to skip, by exact name, each with the reason written down. Unknown names throw. */
  skip?: Record<string, string>;
  /**
   * For an engine with `capabilities.callerTransactions`: a connection of the suite's own to the
   * store's database, to make and read the tables a handler's transaction writes. Without it the
   * suite checks that the engine refuses `jobCompleteInTransaction`.
   */
  database?: Database;
}

/** The groups of the suite, in report order. */
const groups: readonly [string, (test: TestFn, options: ConformanceOptions) => void][] = [
  ['jobsEnqueue / jobGet', enqueueTests],
  ['jobsReserve', reserveTests],
  ['jobsSettle', settleTests],
  ['leases: jobsRenew, jobsRecoverExpired, jobRevoke', leaseTests],
  ['admin: jobRetry, jobsDeleteExpired, jobsList, queuePurge, queueStats', adminTests],
  ['enqueue dedup: idempotency keys', dedupTests],
  ['callbacks: which fire, with what parent and args', callbackTests],
  ['callbacks: once per job, nested, across queues', callbackOnceTests],
  ['chords', chordTests],
  ['followers: what deduplicated sends leave to the holder', followerTests],
  ['steps and stale-write fencing', stepTests],
  ['pools and counters', poolTests],
  ['waitForChange and contention', waitAndContentionTests],
  ['deliveries: jobProgress, history', deliveryTests],
  ['transactions: jobCompleteInTransaction', (test, options) => transactionTests(test, options.database !== undefined)],
  ['operations: workers, schedule ticks, jobsList paging, queueStats nextDueAt', operationTests],
  ['bad input: refused whole, before anything is written', badInputTests],
];

/** Register the whole suite against one engine. */
export function runStoreConformance(opts: ConformanceOptions): void {
  const skip = opts.skip ?? {};
  const names = new Set<string>();
  describe(`Store conformance: ${opts.name}`, () => {
    const h = new Harness(opts.open, opts.database);
    beforeEach(() => h.setUp());
    afterEach(() => h.tearDown());
    const test: TestFn = (name, body) => {
      if (names.has(name)) throw new Error(`conformance test "${name}" is defined twice: names are skip keys, keep them unique`);
      names.add(name);
      const reason = skip[name];
      it(name, reason === undefined ? {} : { skip: reason }, () => body(h));
    };
    for (const [title, register] of groups) describe(title, () => register(test, opts));
  });
  // A typo in a skip key would silently run (and fail) the test it meant to skip: refuse it.
  const unknown = Object.keys(skip).filter((name) => !names.has(name));
  if (unknown.length > 0) throw new Error(`runStoreConformance(${opts.name}): skip names no test: ${unknown.map((n) => JSON.stringify(n)).join(', ')}`);
}
