/**
 * The ceilings: bare better-sqlite3 on the store's own schema (`migrate`) and SQL files, without
 * the store's JavaScript, the worker or any task code; same pragmas as the store (WAL,
 * synchronous=NORMAL). Each measurement opens a fresh file.
 *
 * - insert     rows inserted 1,000 per transaction: the ceiling of enqueue.
 * - process    `batch` due rows taken (`reserve_due` + `reserve_take`) and completed (`complete`),
 *              in one transaction (the ceiling of processing), or in two: reserve, then complete,
 *              which is the shape of a worker at concurrency `batch` (it runs the task in between).
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { migrate } from '../src/store/sqlite/migrate.js';
import { scripts } from '../src/store/sqlite/sql/scripts.gen.js';
import { flushDirtyPages } from './disk.js';

const INSERT_BATCH = 1_000;
const LEASE_MS = 30_000;
const DAY_MS = 86_400_000;

function open(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

/** Insert `n` rows, 1,000 per transaction; answers rows/s. */
function insertRows(db: Database.Database, n: number): number {
  const insert = db.prepare(scripts.enqueue);
  const now = Date.now();
  // Rows are built before the clock starts: this measures SQLite, not UUIDs.
  const rows = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(), task: 'bench.noop', queue: 'default', args: `[${i}]`, priority: 0,
    runAt: now, expiresAt: null, now, maxDeliveries: 5, idemKey: null, idemTtl: null, callbacks: null, chord: null,
    parent: null, state: 'PENDING', error: null, finishedAt: null,
  }));
  const insertBatch = db.transaction((batch: typeof rows) => {
    for (const row of batch) insert.run(row);
  });
  flushDirtyPages();
  const t0 = performance.now();
  for (let i = 0; i < n; i += INSERT_BATCH) insertBatch.immediate(rows.slice(i, i + INSERT_BATCH));
  return n / ((performance.now() - t0) / 1000);
}

/** Rows/s of inserting `n` rows into a fresh file at `file`. */
export function measureInsert(file: string, n: number): number {
  const db = open(file);
  try {
    return insertRows(db, n);
  } finally {
    db.close();
  }
}

/** Rows/s of reserving and completing `n` rows, `batch` at a time, in one or two transactions per batch. */
export function measureProcess(file: string, n: number, batch: number, transactions: 1 | 2): number {
  const db = open(file);
  try {
    insertRows(db, n);
    const due = db.prepare(scripts.reserve_due);
    const take = db.prepare(scripts.reserve_take);
    const complete = db.prepare(scripts.complete);
    type Taken = { id: string; token: number };
    const reserve = (now: number): Taken[] =>
      (due.all({ queue: 'default', now, limit: batch }) as { seq: number }[])
        .map((r) => take.get({ seq: r.seq, worker: 'baseline', now, leaseUntil: now + LEASE_MS }) as Taken);
    const settle = (taken: Taken[], now: number): void => {
      for (const t of taken) complete.run({ id: t.id, token: t.token, result: 'null', now, keepUntil: now + DAY_MS });
    };
    const both = db.transaction((now: number) => {
      const taken = reserve(now);
      settle(taken, now);
      return taken.length;
    });
    const reserveTx = db.transaction(reserve);
    const settleTx = db.transaction(settle);
    const cycle = transactions === 1 ? () => both.immediate(Date.now()) : () => {
      const taken = reserveTx.immediate(Date.now());
      settleTx.immediate(taken, Date.now());
      return taken.length;
    };
    let done = 0;
    flushDirtyPages();
    const t0 = performance.now();
    for (let k = cycle(); k > 0; k = cycle()) done += k;
    const seconds = (performance.now() - t0) / 1000;
    if (done !== n) throw new Error(`baseline: completed ${done} of ${n} rows`);
    return n / seconds;
  } finally {
    db.close();
  }
}
