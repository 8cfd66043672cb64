/** The prepared statements of the SQLite store, one per file in `sql/`. */
import type Database from 'better-sqlite3';
import { scripts } from './sql/scripts.gen.js';

const NAMES = {
  enqueue: 'enqueue', reserveDue: 'reserve_due', reserveTake: 'reserve_take', expire: 'expire', renew: 'renew',
  leaseCheck: 'lease_check', complete: 'complete', fail: 'fail', retry: 'retry', release: 'release',
  recoverExpired: 'recover_expired', requeue: 'requeue', lost: 'lost', revoke: 'revoke', retryFinal: 'retry_final',
  deleteExpired: 'delete_expired', nextDue: 'next_due', purge: 'purge', stats: 'stats', get: 'get',
} as const satisfies Record<string, keyof typeof scripts>;

export type Statements = { [K in keyof typeof NAMES]: Database.Statement };

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(Object.entries(NAMES).map(([key, file]) => [key, db.prepare(scripts[file])])) as Statements;
}
