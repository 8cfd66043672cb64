/** Enqueue dedup in SQLite: who holds an idempotency key (see `Store.jobsEnqueue`). */
import type { JobState } from '../../states.js';
import { keyHeld } from '../policy.js';
import type { Statements } from './statements.js';

interface IdemHolder {
  id: string;
  state: JobState;
  finished_at: number | null;
  idem_ttl: number | null;
  keep_until: number | null;
}

/** The id of the job holding `key` now, or null when the key is free. */
export function keyHolder(sql: Statements, key: string, now: number): string | null {
  const h = sql.idemHolder.get({ key }) as IdemHolder | undefined;
  return h && keyHeld({ state: h.state, finishedAt: h.finished_at, ttlMs: h.idem_ttl, keepUntil: h.keep_until }, now) ? h.id : null;
}
