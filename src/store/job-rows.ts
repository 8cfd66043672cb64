/** Mapping between the jobs row of the SQL engines (SQLite's `conveyor_jobs`, PostgreSQL's `jobs`) and the Store's domain types. */
import { InvalidArgumentError, type ErrorInfo } from '../errors.js';
import { JOB_STATES, type JobState } from '../states.js';
import type { Callback, ChordMember, DeliveryRecord, JobProgress, JobRecord, ParentInfo, QueueStats } from './store.js';

/** A row of `conveyor_jobs`, as the engine returns it (SQLite gives 0 or 1 for the flags, PostgreSQL booleans). */
export interface JobRow {
  seq: number;
  id: string;
  task: string;
  queue: string;
  state: JobState;
  args: string;
  priority: number;
  run_at: number;
  expires_at: number | null;
  enqueued_at: number;
  started_at: number | null;
  finished_at: number | null;
  attempt: number;
  deliveries: number;
  max_deliveries: number;
  token: number;
  worker: string | null;
  lease_expires_at: number | null;
  terminate: number | boolean;
  result: string | null;
  error: string | null;
  keep_until: number | null;
  idem_key: string | null;
  idem_ttl: number | null;
  callbacks: string | null;
  chord: string | null;
  parent: string | null;
  fired: number | boolean;
  progress: string | null;
  history: string | null;
  followers: string | null;
}

export function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    task: row.task,
    queue: row.queue,
    state: row.state,
    argsJson: row.args,
    resultJson: row.result,
    error: row.error === null ? null : (JSON.parse(row.error) as ErrorInfo),
    priority: row.priority,
    attempt: row.attempt,
    deliveries: row.deliveries,
    token: row.token,
    worker: row.worker,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    leaseExpiresAt: row.lease_expires_at,
    expiresAt: row.expires_at,
    maxDeliveries: row.max_deliveries,
    idempotencyKey: row.idem_key,
    callbacks: row.callbacks === null ? [] : (JSON.parse(row.callbacks) as Callback[]),
    chord: row.chord === null ? null : (JSON.parse(row.chord) as ChordMember),
    followers: row.followers === null ? { callbacks: [], chords: [] } : (JSON.parse(row.followers) as JobRecord['followers']),
    parent: parseParent(row.parent),
    progress: row.progress === null ? null : (JSON.parse(row.progress) as JobProgress),
    history: row.history === null ? [] : (JSON.parse(row.history) as DeliveryRecord[]),
  };
}

export function parseParent(text: string | null): ParentInfo | null {
  return text === null ? null : (JSON.parse(text) as ParentInfo);
}

/**
 * The SQL condition of a `jobsList` state filter, the states inlined (each checked against
 * JOB_STATES first) so the planner can use the partial indexes on state.
 * @throws InvalidArgumentError for a state that is not one.
 */
export function statesClause(states: readonly JobState[]): string {
  const bad = states.find((s) => !JOB_STATES.includes(s));
  if (bad !== undefined) throw new InvalidArgumentError(`states: unknown state ${JSON.stringify(bad)}; use ${JOB_STATES.join(', ')}`);
  return states.length === 1 ? `state = '${states[0]}'` : `state IN (${states.map((s) => `'${s}'`).join(', ')})`;
}

/** The queues of `SELECT queue, state, count(*)` rows, by name, every state counted (nextDueAt left for the engine). */
export function queueCounts(rows: readonly { queue: string; state: JobState; n: number }[]): QueueStats[] {
  const byQueue = new Map<string, QueueStats>();
  for (const row of rows) {
    let entry = byQueue.get(row.queue);
    if (!entry) {
      entry = { queue: row.queue, counts: Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as QueueStats['counts'], nextDueAt: null };
      byQueue.set(row.queue, entry);
    }
    entry.counts[row.state] = row.n;
  }
  return [...byQueue.values()].sort((a, b) => a.queue.localeCompare(b.queue));
}
