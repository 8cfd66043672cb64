/** Enqueue dedup in SQLite: who holds an idempotency key (see `Store.jobsEnqueue`). */
import type { Statements } from './statements.js';

interface IdemHolder {
  id: string;
  state: string;
  finished_at: number | null;
  idem_ttl: number | null;
  keep_until: number | null;
}

const FINAL_STATES = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** The id of the job holding `key` now, or null when the key is free. */
export function keyHolder(sql: Statements, key: string, now: number): string | null {
  const holder = sql.idemHolder.get({ key }) as IdemHolder | undefined;
  return holder && keyHeld(holder, now) ? holder.id : null;
}

/** Whether an idempotency key is still held by its latest job. */
function keyHeld(holder: IdemHolder, now: number): boolean {
  if (holder.keep_until !== null && holder.keep_until < now) return false; // gone, but not yet deleted
  if (!FINAL_STATES.has(holder.state)) return true;
  return holder.idem_ttl !== null && holder.finished_at !== null && holder.finished_at + holder.idem_ttl > now;
}
