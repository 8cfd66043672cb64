/**
 * The outside world of `conveyor chaos`: a pretend payment gateway, mail service and executor
 * farm that the scenario's handlers call, kept in one SQLite file every worker process and the
 * checker share. Like a real gateway it honours idempotency keys (a charge sent twice under one
 * key is one charge), and it writes down every request it gets, so the checker can count how
 * often each effect was asked for and how often it happened. It keeps no time of its own: the
 * times of a pool hold are the store's, from the lease (a worker under the clock-skew fault reads
 * a shifted `Date.now()`, which must not matter).
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../store/sqlite/database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS charges (key TEXT PRIMARY KEY, job TEXT NOT NULL, amount INTEGER NOT NULL, token INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS charge_requests (key TEXT NOT NULL, job TEXT NOT NULL, token INTEGER NOT NULL, pid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (kind TEXT NOT NULL, parent TEXT NOT NULL, job TEXT NOT NULL, PRIMARY KEY (kind, parent));
CREATE TABLE IF NOT EXISTS receipt_requests (kind TEXT NOT NULL, parent TEXT NOT NULL, job TEXT NOT NULL, token INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS totals (chord TEXT PRIMARY KEY, total INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS holds (pool TEXT NOT NULL, item TEXT NOT NULL, token INTEGER NOT NULL, acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, releasing INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (pool, token));
`;

/** One hold of a pool item, as its holder reported it (store-clock times, from the lease). */
export interface Hold {
  pool: string;
  item: string;
  token: number;
  acquiredAt: number;
  /** The lease's last known expiry: at acquire, or at its last renewal. */
  expiresAt: number;
  /** Its holder was about to release it (or did). */
  releasing: boolean;
}

/** What the checker reads back. */
export interface LedgerFacts {
  /** Accepted charges by the job that made them. */
  charges: { job: string; amount: number }[];
  /** Charge requests per job (each run of the step's function). */
  chargeRequests: Map<string, number>;
  /** Accepted receipts and refunds: [kind, parent job]. */
  receipts: { kind: string; parent: string }[];
  receiptRequests: number;
  totals: { chord: string; total: number }[];
  holds: Hold[];
}

export class Ledger {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = openDatabase(path, { synchronous: 'normal', busyTimeoutMs: 30_000 });
    this.#db.exec(SCHEMA);
  }

  /** Charge `amount` under an idempotency key: answers whether this request was a replay of one already accepted. */
  charge(key: string, job: string, amount: number, token: number): { ref: string; replayed: boolean } {
    return this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO charge_requests (key, job, token, pid) VALUES (?, ?, ?, ?)').run(key, job, token, process.pid);
      const accepted = this.#db.prepare('INSERT OR IGNORE INTO charges (key, job, amount, token) VALUES (?, ?, ?, ?)').run(key, job, amount, token).changes;
      return { ref: key, replayed: accepted === 0 };
    }).immediate();
  }

  /** Send a receipt (or a refund notice) for `parent`, once per parent and kind. */
  receipt(kind: 'receipt' | 'refund', parent: string, job: string, token: number): void {
    this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO receipt_requests (kind, parent, job, token) VALUES (?, ?, ?, ?)').run(kind, parent, job, token);
      this.#db.prepare('INSERT OR IGNORE INTO receipts (kind, parent, job) VALUES (?, ?, ?)').run(kind, parent, job);
    }).immediate();
  }

  /** Book a chord's total, once per chord. */
  total(chord: string, total: number): void {
    this.#db.prepare('INSERT OR IGNORE INTO totals (chord, total) VALUES (?, ?)').run(chord, total);
  }

  /** A holder took a pool item (its lease's times, on the store's clock). */
  held(hold: Omit<Hold, 'releasing'>): void {
    this.#db.prepare('INSERT OR REPLACE INTO holds (pool, item, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(hold.pool, hold.item, hold.token, hold.acquiredAt, hold.expiresAt);
  }

  /** A holder renewed its lease to `expiresAt`. */
  renewed(pool: string, token: number, expiresAt: number): void {
    this.#db.prepare('UPDATE holds SET expires_at = ? WHERE pool = ? AND token = ?').run(expiresAt, pool, token);
  }

  /** A holder is about to release its item. */
  releasing(pool: string, token: number): void {
    this.#db.prepare('UPDATE holds SET releasing = 1 WHERE pool = ? AND token = ?').run(pool, token);
  }

  facts(): LedgerFacts {
    const all = <T>(sql: string) => this.#db.prepare(sql).all() as T[];
    return {
      charges: all<{ job: string; amount: number }>('SELECT job, amount FROM charges'),
      chargeRequests: new Map(all<{ job: string; n: number }>('SELECT job, COUNT(*) AS n FROM charge_requests GROUP BY job').map((r) => [r.job, r.n])),
      receipts: all<{ kind: string; parent: string }>('SELECT kind, parent FROM receipts'),
      receiptRequests: (this.#db.prepare('SELECT COUNT(*) AS n FROM receipt_requests').get() as { n: number }).n,
      totals: all<{ chord: string; total: number }>('SELECT chord, total FROM totals'),
      holds: all<{ pool: string; item: string; token: number; acquired_at: number; expires_at: number; releasing: number }>('SELECT * FROM holds ORDER BY pool, item, token')
        .map((h) => ({ pool: h.pool, item: h.item, token: h.token, acquiredAt: h.acquired_at, expiresAt: h.expires_at, releasing: h.releasing === 1 })),
    };
  }

  close(): void {
    this.#db.close();
  }
}
