/**
 * The read-only views of the SQLite store: `jobsList` (filters, order, paging) and `queueStats`
 * (counts per state and the head of each queue).
 */
import type Database from 'better-sqlite3';
import type { JobState } from '../../states.js';
import type { JobRecord, ListParams, QueueStats } from '../store.js';
import { queueCounts, statesClause, toRecord, type JobRow } from '../job-rows.js';
import type { Statements } from './statements.js';

/** Jobs matching filters, by seq (enqueue order): oldest first, or newest first; then offset, limit. */
export function jobsList(db: Database.Database, params: ListParams): JobRecord[] {
  const where: string[] = [];
  const values: Record<string, unknown> = { limit: params.limit, offset: params.offset ?? 0 };
  if (params.states?.length) where.push(statesClause(params.states));
  if (params.queue !== undefined) (where.push('queue = $queue'), (values.queue = params.queue));
  if (params.task !== undefined) (where.push('task = $task'), (values.task = params.task));
  if (params.runAfter !== undefined) (where.push('run_at > $runAfter'), (values.runAfter = params.runAfter));
  const order = params.newestFirst ? 'seq DESC' : 'seq';
  const sql = `SELECT * FROM conveyor_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $limit OFFSET $offset`;
  return (db.prepare(sql).all(values) as JobRow[]).map(toRecord);
}

/** Counts per state of every queue with jobs, by queue name, each with its next due run time. */
export function queueStats(sql: Statements, now: number): QueueStats[] {
  const stats = queueCounts(sql.stats.all() as { queue: string; state: JobState; n: number }[]);
  for (const entry of stats) {
    // The job a reserve would take first (it walks the ready index: one row read per queue).
    const head = sql.reserveDue.get({ queue: entry.queue, now, limit: 1 }) as { run_at: number } | undefined;
    entry.nextDueAt = head?.run_at ?? null;
  }
  return stats;
}
