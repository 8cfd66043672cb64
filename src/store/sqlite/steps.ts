/**
 * `ctx.step` results in SQLite: fenced reads and first-write-wins records, inside the store's
 * write transaction (the fence check and the read or write are one transition).
 */
import type { CounterName, StepOutcome, StepRecord } from '../store.js';
import type { Statements } from './statements.js';

/** What steps need from the store. */
export interface StepScope {
  sql: Statements;
  /** Whether `token` holds job `id`'s current lease, else why not (a stale one is counted). */
  lease(id: string, token: number): { ok: true } | Extract<StepOutcome, { ok: false }>;
  count(name: CounterName): void;
}

export function stepGet(scope: StepScope, params: { id: string; token: number; name: string }): StepOutcome {
  const lease = scope.lease(params.id, params.token);
  if (!lease.ok) return lease;
  const row = scope.sql.stepGet.get({ id: params.id, name: params.name }) as { result: string } | undefined;
  if (row) scope.count('steps_replayed_total');
  return { ok: true, resultJson: row?.result ?? null };
}

export function stepPut(scope: StepScope, params: { id: string; token: number; name: string; resultJson: string }, now: number): StepOutcome {
  const lease = scope.lease(params.id, params.token);
  if (!lease.ok) return lease;
  scope.sql.stepPut.run({ id: params.id, name: params.name, result: params.resultJson, token: params.token, now });
  return { ok: true, resultJson: (scope.sql.stepGet.get({ id: params.id, name: params.name }) as { result: string }).result };
}

export function stepsList(sql: Statements, id: string): StepRecord[] {
  return (sql.stepsList.all({ id }) as { name: string; result: string; token: number; recorded_at: number }[])
    .map((r) => ({ name: r.name, resultJson: r.result, token: r.token, recordedAt: r.recorded_at }));
}
