/** The prepared statements of the SQLite store, one per file in `sql/`. */
import type Database from 'better-sqlite3';
import { scripts } from './sql/scripts.gen.js';

const NAMES = {
  enqueue: 'enqueue', idemHolder: 'idem_holder', reserveDue: 'reserve_due', reserveTake: 'reserve_take', expire: 'expire',
  renew: 'renew', leaseCheck: 'lease_check', complete: 'complete', fail: 'fail', retry: 'retry', release: 'release',
  recoverExpired: 'recover_expired', requeue: 'requeue', lost: 'lost', revoke: 'revoke', retryFinal: 'retry_final',
  deleteExpired: 'delete_expired', nextDue: 'next_due', purge: 'purge', stats: 'stats', get: 'get',
  finishTake: 'finish_take', finishSkipped: 'finish_skipped', chordMark: 'chord_mark', chordResults: 'chord_results',
  chordsDeleteExpired: 'chords_delete_expired', chordsDeletePurged: 'chords_delete_purged', count: 'count', counters: 'counters',
  stepGet: 'step_get', stepPut: 'step_put', stepsList: 'steps_list', stepsDeleteExpired: 'steps_delete_expired',
  stepsDeletePurged: 'steps_delete_purged',
  poolNext: 'pool_next', poolAdd: 'pool_add', poolRemove: 'pool_remove', poolRemoveHeld: 'pool_remove_held',
  poolLapsed: 'pool_lapsed', poolFree: 'pool_free', poolDrop: 'pool_drop', poolTake: 'pool_take', poolFirstFree: 'pool_first_free', poolRenew: 'pool_renew',
  poolItems: 'pool_items',
  historyAppend: 'history_append', progress: 'progress', followersSet: 'followers_set',
  workerPut: 'worker_put', workersList: 'workers_list', workersDeleteExpired: 'workers_delete_expired', workerRemove: 'worker_remove',
  tickGet: 'tick_get', tickAdvance: 'tick_advance',
} as const satisfies Record<string, keyof typeof scripts>;

export type Statements = { [K in keyof typeof NAMES]: Database.Statement };

export function prepareStatements(db: Database.Database): Statements {
  return Object.fromEntries(Object.entries(NAMES).map(([key, file]) => [key, db.prepare(scripts[file])])) as Statements;
}
