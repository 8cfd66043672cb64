/**
 * The worker registry in SQLite: a worker's row holds its WorkerInfo as JSON and expires `ttlMs`
 * after its last heartbeat; expired rows are hidden from the list and deleted at the next heartbeat.
 */
import { workerRecord } from '../policy.js';
import type { WorkerInfo } from '../store.js';
import type { Statements } from './statements.js';

/** Upsert a worker with `lastSeenAt = now`; inside the store's write transaction. */
export function workersHeartbeat(sql: Statements, params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }, now: number): void {
  sql.workersDeleteExpired.run({ now });
  const info = workerRecord(params.worker, now);
  sql.workerPut.run({ id: info.id, info: JSON.stringify(info), expiresAt: now + params.ttlMs });
}

export function workersList(sql: Statements, now: number): WorkerInfo[] {
  return (sql.workersList.all({ now }) as { info: string }[]).map((r) => JSON.parse(r.info) as WorkerInfo);
}

export function workerRemove(sql: Statements, id: string): void {
  sql.workerRemove.run({ id });
}
