/**
 * The read-only views of the PostgreSQL store: `jobsList` (filters, order, paging) and
 * `queueStats` (counts per state and the head of each queue), as SQLite's views.ts.
 */
import type { JobState } from '../../states.js';
import { queueCounts, statesClause, toRecord, type JobRow } from '../job-rows.js';
import type { JobRecord, ListParams, QueueStats } from '../store.js';
import { run, type Tables, type Tx } from './tables.js';

/** Jobs matching filters, by seq (enqueue order): oldest first, or newest first; then offset, limit. */
export async function jobsList(tx: Tx, t: Tables, params: ListParams): Promise<JobRecord[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (v: unknown) => `$${values.push(v)}`;
  if (params.states?.length) where.push(statesClause(params.states));
  if (params.queue !== undefined) where.push(`queue = ${param(params.queue)}`);
  if (params.task !== undefined) where.push(`task = ${param(params.task)}`);
  if (params.runAfter !== undefined) where.push(`run_at > ${param(params.runAfter)}`);
  const text = `SELECT * FROM ${t.jobs} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY seq ${params.newestFirst ? 'DESC' : ''} LIMIT ${param(params.limit)} OFFSET ${param(params.offset ?? 0)}`;
  return (await run<JobRow>(tx, text, values)).map(toRecord);
}

/** Counts per state of every queue with jobs, by queue name, each with its next due run time. */
export async function queueStats(tx: Tx, t: Tables, now: number): Promise<QueueStats[]> {
  const stats = queueCounts(await run<{ queue: string; state: JobState; n: number }>(tx, `SELECT queue, state, count(*)::int AS n FROM ${t.jobs} GROUP BY queue, state`));
  for (const entry of stats) {
    // The job a reserve would take first (it walks the ready index: one row read per queue).
    const [head] = await run<{ run_at: number }>(tx,
      `SELECT run_at FROM ${t.jobs} WHERE queue = $1 AND state IN ('PENDING', 'RETRY') AND run_at <= $2 ORDER BY priority DESC, run_at, seq LIMIT 1`, [entry.queue, now]);
    entry.nextDueAt = head?.run_at ?? null;
  }
  return stats;
}
