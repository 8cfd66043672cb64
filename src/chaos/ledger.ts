/**
 * The outside world of `conveyor chaos`: a pretend payment gateway, mail service and executor
 * farm that the scenario's handlers call, kept in one SQLite file every worker process and the
 * checker share. Like a real gateway it honours idempotency keys (a charge sent twice under one
 * key is one charge), and it writes down every request it gets with the delivery that made it,
 * so the checker can tell how often each effect was asked for, by which delivery, and how often
 * it happened. It keeps no time of its own: the
 * times of a pool hold are the store's, from the lease (a worker under the clock-skew fault reads
 * a shifted `Date.now()`, which must not matter).
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../store/sqlite/database.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (kind TEXT NOT NULL, job TEXT NOT NULL, token INTEGER NOT NULL, pid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS charges (key TEXT PRIMARY KEY, job TEXT NOT NULL, amount INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (kind TEXT NOT NULL, parent TEXT NOT NULL, job TEXT NOT NULL, PRIMARY KEY (kind, parent));
CREATE TABLE IF NOT EXISTS totals (chord TEXT PRIMARY KEY, total INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ticks (n INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE IF NOT EXISTS holds (pool TEXT NOT NULL, item TEXT NOT NULL, token INTEGER NOT NULL, acquired_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, held_tick INTEGER NOT NULL, releasing_tick INTEGER, PRIMARY KEY (pool, token));
`;

/** The effects the scenario's handlers ask for, each through a step of its own. */
export type EffectKind = 'charge' | 'receipt' | 'refund' | 'total';

/** One hold of a pool item, as its holder reported it (store-clock times, from the lease). */
export interface Hold {
  pool: string;
  item: string;
  token: number;
  acquiredAt: number;
  /** The lease's expiry at acquire (the scenario does not renew). */
  expiresAt: number;
  /** When the holder wrote that it held the item, and that it was about to release it (null: it never got there), in the ledger's order of writes. */
  heldTick: number;
  releasingTick: number | null;
}

/** What the checker reads back. */
export interface LedgerFacts {
  /** Every call of an effect: the job and the delivery (its fencing token) that made it. */
  requests: { kind: EffectKind; job: string; token: number }[];
  /** Accepted charges by the job that made them. */
  charges: { job: string; amount: number }[];
  /** Accepted receipts and refunds: [kind, parent job]. */
  receipts: { kind: string; parent: string }[];
  totals: { chord: string; total: number }[];
  holds: Hold[];
}

export class Ledger {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = openDatabase(path, { synchronous: 'normal', busyTimeoutMs: 30_000 });
    this.#db.exec(SCHEMA);
  }

  #request(kind: EffectKind, job: string, token: number): void {
    this.#db.prepare('INSERT INTO requests (kind, job, token, pid) VALUES (?, ?, ?, ?)').run(kind, job, token, process.pid);
  }

  /** The next number in the ledger's order of writes (every process writes the one file, one at a time). */
  #tick(): number {
    return Number(this.#db.prepare('INSERT INTO ticks DEFAULT VALUES').run().lastInsertRowid);
  }

  /** Charge `amount` under an idempotency key: answers whether this request was a replay of one already accepted. */
  charge(key: string, job: string, amount: number, token: number): { ref: string; replayed: boolean } {
    return this.#db.transaction(() => {
      this.#request('charge', job, token);
      const accepted = this.#db.prepare('INSERT OR IGNORE INTO charges (key, job, amount) VALUES (?, ?, ?)').run(key, job, amount).changes;
      return { ref: key, replayed: accepted === 0 };
    }).immediate();
  }

  /** Send a receipt (or a refund notice) for `parent`, once per parent and kind. */
  receipt(kind: 'receipt' | 'refund', parent: string, job: string, token: number): void {
    this.#db.transaction(() => {
      this.#request(kind, job, token);
      this.#db.prepare('INSERT OR IGNORE INTO receipts (kind, parent, job) VALUES (?, ?, ?)').run(kind, parent, job);
    }).immediate();
  }

  /** Book a chord's total, once per chord (the chord is its callback's job). */
  total(chord: string, total: number, token: number): void {
    this.#db.transaction(() => {
      this.#request('total', chord, token);
      this.#db.prepare('INSERT OR IGNORE INTO totals (chord, total) VALUES (?, ?)').run(chord, total);
    }).immediate();
  }

  /** A holder took a pool item (its lease's times, on the store's clock). */
  held(hold: Omit<Hold, 'heldTick' | 'releasingTick'>): void {
    this.#db.transaction(() => {
      this.#db.prepare('INSERT OR REPLACE INTO holds (pool, item, token, acquired_at, expires_at, held_tick) VALUES (?, ?, ?, ?, ?, ?)')
        .run(hold.pool, hold.item, hold.token, hold.acquiredAt, hold.expiresAt, this.#tick());
    }).immediate();
  }

  /** A holder is about to release its item. */
  releasing(pool: string, token: number): void {
    this.#db.transaction(() => {
      this.#db.prepare('UPDATE holds SET releasing_tick = ? WHERE pool = ? AND token = ?').run(this.#tick(), pool, token);
    }).immediate();
  }

  facts(): LedgerFacts {
    const all = <T>(sql: string) => this.#db.prepare(sql).all() as T[];
    return {
      requests: all<{ kind: EffectKind; job: string; token: number }>('SELECT kind, job, token FROM requests ORDER BY rowid'),
      charges: all<{ job: string; amount: number }>('SELECT job, amount FROM charges'),
      receipts: all<{ kind: string; parent: string }>('SELECT kind, parent FROM receipts'),
      totals: all<{ chord: string; total: number }>('SELECT chord, total FROM totals'),
      holds: all<{ pool: string; item: string; token: number; acquired_at: number; expires_at: number; held_tick: number; releasing_tick: number | null }>(
        'SELECT * FROM holds ORDER BY pool, item, token',
      ).map((h) => ({
        pool: h.pool, item: h.item, token: h.token, acquiredAt: h.acquired_at, expiresAt: h.expires_at, heldTick: h.held_tick, releasingTick: h.releasing_tick,
      })),
    };
  }

  close(): void {
    this.#db.close();
  }
}
