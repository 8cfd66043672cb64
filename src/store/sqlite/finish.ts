/**
 * Finishing a job in SQLite: at its first final state, enqueue its callbacks and record its
 * outcome in its chord; at every final state, fire its followers; all inside the transaction that
 * made it final (see the `Store` JSDoc).
 *
 * Terminology:
 * - fired      the job's `fired` flag: its own callbacks and chord mark happened. Set once, ever,
 *              so a dead-letter retry that ends again fires nothing of them (each one is counted).
 * - follower   a chord place or a chain's next step left by a deduplicated send (JobRecord
 *              .followers): fired at the job's next final state, or at once if it is final.
 * - chord      the callback every member carries; the member whose outcome is recorded last, of
 *              `size`, enqueues it. Outcomes go in a table keyed (chord, index), so recording one
 *              twice is a no-op rather than a second increment of a counter. They stay until the
 *              callback's job is deleted: a late mark meets the complete chord and changes nothing,
 *              and a dead-letter retry of a callback failed by a member runs with them.
 */
import type { ErrorInfo } from '../../errors.js';
import { prependArg } from '../../message.js';
import { isFinal, type JobState } from '../../states.js';
import { chordError, followersToAdd, leavesFollowers } from '../policy.js';
import type { Callback, CallbackJob, ChordMember, CounterName, JobRecord, NewJob, ParentInfo } from '../store.js';
import type { Statements } from './statements.js';

/** What finishing needs from the store, inside its transaction. */
export interface FinishScope {
  sql: Statements;
  now: number;
  count(name: CounterName, n?: number): void;
  /** Insert a job made by the store; false when its id is already stored. */
  insert(job: CallbackJob, fields: { parent: ParentInfo | null; state: 'PENDING' | 'FAILURE'; error: ErrorInfo | null }): boolean;
}

/** What firing needs of the finished job. */
interface FinishedRow {
  task: string;
  state: ParentInfo['state'];
  result: string | null;
  error: string | null;
}

type Followers = JobRecord['followers'];

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

/** Fire what job `id`, just made final, has to fire: its own callbacks and chord once ever, its followers each time. */
export function finish(scope: FinishScope, id: string): void {
  type Final = FinishedRow & { callbacks: string | null; chord: string | null; followers: string | null };
  const row = scope.sql.finishTake.get({ id }) as Final | undefined;
  const again = row ? undefined : (scope.sql.finishSkipped.get({ id }) as Final | undefined);
  if (row) {
    fire(scope, id, row, parse<Callback[]>(row.callbacks) ?? [], row.chord === null ? [] : [parse<ChordMember>(row.chord)!]);
  } else if (again) {
    const skipped = firing(parse<Callback[]>(again.callbacks) ?? [], again.state).length + (again.chord ? 1 : 0);
    if (skipped > 0) scope.count('callbacks_deduplicated_total', skipped);
  }
  const taken = row ?? again;
  if (taken?.followers) {
    scope.sql.followersSet.run({ id, followers: null });
    const followers = JSON.parse(taken.followers) as Followers;
    fire(scope, id, taken, followers.callbacks, followers.chords);
  }
}

/** Enqueue the `callbacks` that fire for final job `id`'s outcome, and mark its `chords` places with it. */
function fire(scope: FinishScope, id: string, row: FinishedRow, callbacks: readonly Callback[], chords: readonly ChordMember[]): void {
  const error = parse<ErrorInfo>(row.error);
  const success = row.state === 'SUCCESS';
  const parent: ParentInfo = { id, task: row.task, state: row.state, resultJson: success ? (row.result ?? 'null') : null, error: success ? null : error };
  for (const callback of firing(callbacks, row.state)) {
    const argsJson = callback.passResult && success ? prependArg(parent.resultJson!, callback.job.argsJson) : callback.job.argsJson;
    if (!scope.insert({ ...callback.job, argsJson }, { parent, state: 'PENDING', error: null })) scope.count('callbacks_deduplicated_total');
  }
  for (const chord of chords) markChord(scope, chord, id, row, error);
}

/**
 * A deduplicated send (its id stored, or its key held by `holder`) leaves its followers to the
 * holder: its chord place and its chains' next steps (callbacks with a `join`), unless the holder
 * has them already. Fired now when the holder is final, else kept until it is.
 */
export function follow(scope: FinishScope, holder: string, job: NewJob): void {
  if (!leavesFollowers(job)) return;
  const row = scope.sql.get.get({ id: holder }) as (FinishedRow & { callbacks: string | null; chord: string | null; followers: string | null }) | undefined;
  if (!row) return;
  const followers: Followers = parse<Followers>(row.followers) ?? { callbacks: [], chords: [] };
  const { callbacks, chords } = followersToAdd({ callbacks: parse<Callback[]>(row.callbacks) ?? [], chord: parse<ChordMember>(row.chord), followers }, job);
  if (callbacks.length === 0 && chords.length === 0) return;
  if (isFinal(row.state)) return fire(scope, holder, row, callbacks, chords);
  followers.callbacks.push(...callbacks);
  followers.chords.push(...chords);
  scope.sql.followersSet.run({ id: holder, followers: JSON.stringify(followers) });
}

function markChord(scope: FinishScope, chord: ChordMember, memberId: string, row: FinishedRow, error: ErrorInfo | null): void {
  const chordId = chord.callback.id;
  const marked = scope.sql.chordMark.run({
    chord: chordId, idx: chord.index, member: memberId, state: row.state,
    result: row.state === 'SUCCESS' ? (row.result ?? 'null') : null, error: error ? JSON.stringify(error) : null,
  }).changes;
  if (marked === 0) {
    // The same outcome recorded again is the same mark (as a relayed repeat is on Redis); another one is counted.
    const recorded = (scope.sql.chordResults.all({ chord: chordId }) as ChordRow[]).find((o) => o.idx === chord.index)!;
    const same = recorded.state === 'SUCCESS'
      ? row.state === 'SUCCESS' && recorded.result === (row.result ?? 'null')
      : recorded.member_id === memberId && recorded.state === row.state && recorded.error === (error ? JSON.stringify(error) : null);
    if (!same) scope.count('callbacks_deduplicated_total');
    return;
  }
  const outcomes = scope.sql.chordResults.all({ chord: chordId }) as ChordRow[];
  if (outcomes.length < chord.size) return;
  const failed = outcomes.find((o) => o.state !== 'SUCCESS');
  let created: boolean;
  if (!failed) {
    created = scope.insert({ ...chord.callback, argsJson: prependArg(chordArgs(outcomes.map((o) => o.result)), chord.callback.argsJson) }, { parent: null, state: 'PENDING', error: null });
  } else {
    const error = chordError(failed.member_id, failed.idx, failed.state as JobState, parse<ErrorInfo>(failed.error));
    created = scope.insert(chord.callback, { parent: null, state: 'FAILURE', error });
    // The callback is final at birth: its own failure callbacks fire now.
    if (created && chord.callback.callbacks?.length) finish(scope, chordId);
  }
  if (!created) scope.count('callbacks_deduplicated_total');
}

/** The members' results, in index order, as the JSON array a chord's callback gets first. */
const chordArgs = (results: readonly (string | null)[]) => `[${results.map((r) => r ?? 'null').join(',')}]`;

/**
 * The args of a chord's callback failed with a ChordError, for its dead-letter retry: the
 * members' results as they are now (a member that failed and was retried since counts with its
 * new result), prepended to its own args; null when a member has not succeeded or is gone;
 * undefined when the job is no chord's callback (it has no chord record).
 */
export function chordRetryArgs(sql: Statements, chordId: string, argsJson: string): string | null | undefined {
  const outcomes = sql.chordResults.all({ chord: chordId }) as ChordRow[];
  if (outcomes.length === 0) return undefined;
  const results: string[] = [];
  for (const o of outcomes) {
    if (o.state === 'SUCCESS') {
      results.push(o.result ?? 'null');
      continue;
    }
    const now = sql.get.get({ id: o.member_id }) as { state: string; result: string | null } | undefined;
    if (now?.state !== 'SUCCESS') return null;
    results.push(now.result ?? 'null');
  }
  return prependArg(chordArgs(results), argsJson);
}

function parse<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
