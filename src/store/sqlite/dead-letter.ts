/**
 * The dead-letter retry in SQLite (Store.jobRetry): a FAILURE or REVOKED job back in line with a
 * fresh retry budget, unless another job holds its idempotency key now; a chord's callback failed
 * at birth (FAILURE, never started: a member did not succeed) gets its members' results. Inside
 * the store's write transaction.
 */
import type { RetryAnswer } from '../store.js';
import { keyHolder } from './dedup.js';
import { chordRetryArgs } from './finish.js';
import type { JobRow } from '../job-rows.js';
import type { Statements } from './statements.js';

export function retryDeadLetter(sql: Statements, id: string, now: number): RetryAnswer {
  const row = sql.get.get({ id }) as JobRow | undefined;
  if (!row) return 'missing';
  if (row.state !== 'FAILURE' && row.state !== 'REVOKED') return 'not-final';
  // The key is held by the job it was given to last that is live: if that is another, retrying would make two.
  if (row.idem_key !== null && (keyHolder(sql, row.idem_key, now) ?? id) !== id) return 'key-held';
  let args = row.args;
  if (row.state === 'FAILURE' && row.started_at === null) {
    const withResults = chordRetryArgs(sql, id, row.args);
    if (withResults === null) return 'chord-failed';
    args = withResults ?? args;
  }
  sql.retryFinal.run({ id, now, args });
  return 'retried';
}
