/**
 * The worker registry in SQLite: a worker's row holds its WorkerInfo as JSON and expires `ttlMs`
 * after its last heartbeat; expired rows are hidden from the list and deleted at the next heartbeat.
 */
import type { WorkerInfo } from '../store.js';
import type { Statements } from './statements.js';

/** Upsert a worker with `lastSeenAt = now`; inside the store's write transaction. */
export function workersHeartbeat(sql: Statements, params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }, now: number): void {
  sql.workersDeleteExpired.run({ now });
  const w = params.worker;
  // Only the contract's fields, in one order, whatever else the caller's object carries.
  const info: WorkerInfo = {
    id: w.id, hostname: w.hostname, pid: w.pid, queues: w.queues, concurrency: w.concurrency, startedAt: w.startedAt,
    lastSeenAt: now, active: w.active, counts: w.counts, ...(w.pool ? { pool: w.pool } : {}),
  };
  sql.workerPut.run({ id: info.id, info: JSON.stringify(info), expiresAt: now + params.ttlMs });
}

export function workersList(sql: Statements, now: number): WorkerInfo[] {
  return (sql.workersList.all({ now }) as { info: string }[]).map((r) => JSON.parse(r.info) as WorkerInfo);
}

export function workerRemove(sql: Statements, id: string): void {
  sql.workerRemove.run({ id });
}
