/**
 * Lease recovery in SQLite: a STARTED job whose lease passed goes back in line (its lost delivery
 * recorded in its history), or fails with WorkerLostError once its deliveries ran out.
 */
import { workerLostError } from '../policy.js';
import type { RecoverResult } from '../store.js';
import type { JobRow } from '../job-rows.js';
import type { Statements } from './statements.js';

export type ExpiredRow = Pick<JobRow, 'seq' | 'id' | 'token' | 'deliveries' | 'max_deliveries'>;

/** The jobs whose lease has passed (read outside the write lock, to skip it when there are none). */
export function expiredLeases(sql: Statements, now: number): ExpiredRow[] {
  return sql.recoverExpired.all({ now }) as ExpiredRow[];
}

/**
 * Recover every expired lease; inside the store's write transaction. `failed` gets the row a
 * WorkerLostError failure answers (see lost.sql), to fire the job's callbacks.
 */
export function recoverExpired(sql: Statements, now: number, failed: (row: { id: string; quiet: number } | undefined) => void): RecoverResult {
  const result: RecoverResult = { requeued: [], failed: [] };
  // Re-read inside the write lock: another process may have recovered them meanwhile.
  for (const row of expiredLeases(sql, now)) {
    if (row.deliveries >= row.max_deliveries) {
      const error = JSON.stringify(workerLostError(row.id, row.deliveries));
      failed(sql.lost.get({ seq: row.seq, error, now }) as { id: string; quiet: number } | undefined);
      result.failed.push(row.id);
    } else {
      sql.historyAppend.run({ id: row.id, token: row.token, now, outcome: 'lost', error: null });
      sql.requeue.run({ seq: row.seq });
      result.requeued.push(row.id);
    }
  }
  return result;
}
