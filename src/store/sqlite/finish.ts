/**
 * Finishing a job in SQLite: at its first final state, enqueue its callbacks and record its
 * outcome in its chord, inside the transaction that made it final (see the `Store` JSDoc).
 *
 * Terminology:
 * - fired   the job's `fired` flag: its callbacks and chord mark happened. Set once, ever, so a
 *           dead-letter retry that ends again fires nothing (each skipped one is counted).
 * - chord   the callback every member carries; the member whose outcome is recorded last, of
 *           `size`, enqueues it. Outcomes go in a table keyed (chord, index), so recording one
 *           twice is a no-op rather than a second increment of a counter.
 */
import type { ErrorInfo } from '../../errors.js';
import { prependArg } from '../../message.js';
import type { Callback, CallbackJob, ChordMember, CounterName, ParentInfo } from '../store.js';
import type { Statements } from './statements.js';

/** What finishing needs from the store, inside its transaction. */
export interface FinishScope {
  sql: Statements;
  now: number;
  count(name: CounterName, n?: number): void;
  /** Insert a job made by the store; false when its id is already stored. */
  insert(job: CallbackJob, fields: { parent: ParentInfo | null; state: 'PENDING' | 'FAILURE'; error: ErrorInfo | null }): boolean;
}

interface FinishedRow {
  task: string;
  state: ParentInfo['state'];
  result: string | null;
  error: string | null;
  callbacks: string | null;
  chord: string | null;
}

interface ChordRow {
  idx: number;
  member_id: string;
  state: string;
  result: string | null;
  error: string | null;
}

/** The callbacks of a job that fire for an outcome. */
function firing(callbacks: readonly Callback[], state: string): Callback[] {
  const success = state === 'SUCCESS';
  return callbacks.filter((c) => c.on === 'final' || (c.on === 'success') === success);
}

/** Fire what job `id`, just made final, has to fire. */
export function finish(scope: FinishScope, id: string): void {
  const row = scope.sql.finishTake.get({ id }) as FinishedRow | undefined;
  if (!row) {
    const again = scope.sql.finishSkipped.get({ id }) as Pick<FinishedRow, 'state' | 'callbacks' | 'chord'> | undefined;
    if (again) {
      const skipped = firing(parse<Callback[]>(again.callbacks) ?? [], again.state).length + (again.chord ? 1 : 0);
      if (skipped > 0) scope.count('callbacks_deduplicated_total', skipped);
    }
    return;
  }
  const error = parse<ErrorInfo>(row.error);
  const success = row.state === 'SUCCESS';
  const parent: ParentInfo = { id, task: row.task, state: row.state, resultJson: success ? (row.result ?? 'null') : null, error: success ? null : error };
  for (const callback of firing(parse<Callback[]>(row.callbacks) ?? [], row.state)) {
    const argsJson = callback.passResult && success ? prependArg(parent.resultJson!, callback.job.argsJson) : callback.job.argsJson;
    if (!scope.insert({ ...callback.job, argsJson }, { parent, state: 'PENDING', error: null })) scope.count('callbacks_deduplicated_total');
  }
  const chord = parse<ChordMember>(row.chord);
  if (chord) markChord(scope, chord, id, row, error);
}

function markChord(scope: FinishScope, chord: ChordMember, memberId: string, row: FinishedRow, error: ErrorInfo | null): void {
  const chordId = chord.callback.id;
  const marked = scope.sql.chordMark.run({
    chord: chordId, idx: chord.index, member: memberId, state: row.state,
    result: row.state === 'SUCCESS' ? (row.result ?? 'null') : null, error: error ? JSON.stringify(error) : null,
  }).changes;
  if (marked === 0) return scope.count('callbacks_deduplicated_total');
  const outcomes = scope.sql.chordResults.all({ chord: chordId }) as ChordRow[];
  if (outcomes.length < chord.size) return;
  const failed = outcomes.find((o) => o.state !== 'SUCCESS');
  let created: boolean;
  if (!failed) {
    const results = `[${outcomes.map((o) => o.result ?? 'null').join(',')}]`;
    created = scope.insert({ ...chord.callback, argsJson: prependArg(results, chord.callback.argsJson) }, { parent: null, state: 'PENDING', error: null });
  } else {
    const cause = parse<ErrorInfo>(failed.error);
    const chordError: ErrorInfo = {
      type: 'ChordError', code: 'CHORD_FAILED',
      message: `chord member ${failed.member_id} (index ${failed.idx}) ended ${failed.state}: ${cause?.type ?? 'Error'}: ${cause?.message ?? ''}`,
    };
    created = scope.insert(chord.callback, { parent: null, state: 'FAILURE', error: chordError });
    // The callback is final at birth: its own failure callbacks fire now.
    if (created && chord.callback.callbacks?.length) finish(scope, chordId);
  }
  if (!created) scope.count('callbacks_deduplicated_total');
  scope.sql.chordDelete.run({ chord: chordId });
}

function parse<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
