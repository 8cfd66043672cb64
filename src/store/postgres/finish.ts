/**
 * Finishing a job in PostgreSQL: at its first final state, enqueue its callbacks and record its
 * outcome in its chord; at every final state, fire its followers; all inside the transaction that
 * made it final (see the `Store` JSDoc). The rules are the SQLite engine's (sqlite/finish.ts has
 * the terminology); what PostgreSQL adds is locking, since transactions here run side by side:
 * - the finished job's row is locked by the update that made it final, and a deduplicated send
 *   locks its holder's row (`FOR UPDATE`) before leaving followers, so a follower is either seen
 *   by the holder's finish or finds the holder final and fires at once — never neither;
 * - a chord's marks are taken under an advisory lock on the chord's id, so of two members ending
 *   at once exactly one sees the chord complete.
 */
import type { ErrorInfo } from '../../errors.js';
import { prependArg } from '../../message.js';
import { isFinal, type JobState } from '../../states.js';
import { chordError, followersToAdd, leavesFollowers } from '../policy.js';
import type { Callback, CallbackJob, ChordMember, JobRecord, NewJob, ParentInfo } from '../store.js';
import { count, run, type Tables, type Tx } from './tables.js';

/** What finishing needs from the store, inside its transaction. */
export interface FinishScope {
  tx: Tx;
  t: Tables;
  now: number;
  /** The schema's name, for the chord's advisory lock. */
  schema: string;
  /** Insert a job made by the store; false when its id is already stored. */
  insert(job: CallbackJob, fields: { parent: ParentInfo | null; state: 'PENDING' | 'FAILURE'; error: ErrorInfo | null }): Promise<boolean>;
}

interface FinishedRow {
  task: string;
  state: JobState;
  result: string | null;
  error: string | null;
}

type Final = FinishedRow & { callbacks: string | null; chord: string | null; followers: string | null };
type Followers = JobRecord['followers'];

interface ChordRow {
  idx: number;
  member_id: string;
  state: JobState;
  result: string | null;
  error: string | null;
}

function firing(callbacks: readonly Callback[], state: string): Callback[] {
  const success = state === 'SUCCESS';
  return callbacks.filter((c) => c.on === 'final' || (c.on === 'success') === success);
}

/** Fire what job `id`, just made final, has to fire: its own callbacks and chord once ever, its followers each time. */
export async function finish(scope: FinishScope, id: string): Promise<void> {
  const { tx, t } = scope;
  const [row] = await run<Final>(tx, `UPDATE ${t.jobs} SET fired = true WHERE id = $1 AND NOT fired RETURNING task, state, result, error, callbacks, chord, followers`, [id]);
  const [again] = row ? [] : await run<Final>(tx, `SELECT task, state, result, error, callbacks, chord, followers FROM ${t.jobs} WHERE id = $1 AND fired`, [id]);
  if (row) {
    await fire(scope, id, row, parse<Callback[]>(row.callbacks) ?? [], row.chord === null ? [] : [parse<ChordMember>(row.chord)!]);
  } else if (again) {
    const skipped = firing(parse<Callback[]>(again.callbacks) ?? [], again.state).length + (again.chord ? 1 : 0);
    await count(tx, t, 'callbacks_deduplicated_total', skipped);
  }
  const taken = row ?? again;
  if (taken?.followers) {
    await run(tx, `UPDATE ${t.jobs} SET followers = NULL WHERE id = $1`, [id]);
    const followers = JSON.parse(taken.followers) as Followers;
    await fire(scope, id, taken, followers.callbacks, followers.chords);
  }
}

async function fire(scope: FinishScope, id: string, row: FinishedRow, callbacks: readonly Callback[], chords: readonly ChordMember[]): Promise<void> {
  const error = parse<ErrorInfo>(row.error);
  const success = row.state === 'SUCCESS';
  const parent: ParentInfo = { id, task: row.task, state: row.state, resultJson: success ? (row.result ?? 'null') : null, error: success ? null : error };
  for (const callback of firing(callbacks, row.state)) {
    const argsJson = callback.passResult && success ? prependArg(parent.resultJson!, callback.job.argsJson) : callback.job.argsJson;
    if (!(await scope.insert({ ...callback.job, argsJson }, { parent, state: 'PENDING', error: null }))) await count(scope.tx, scope.t, 'callbacks_deduplicated_total');
  }
  for (const chord of chords) await markChord(scope, chord, id, row, error);
}

/**
 * A deduplicated send (its id stored, or its key held by `holder`) leaves its followers to the
 * holder, unless the holder has them already; fired now when the holder is final, else kept.
 */
export async function follow(scope: FinishScope, holder: string, job: NewJob): Promise<void> {
  if (!leavesFollowers(job)) return;
  const { tx, t } = scope;
  const [row] = await run<Final>(tx, `SELECT task, state, result, error, callbacks, chord, followers FROM ${t.jobs} WHERE id = $1 FOR UPDATE`, [holder]);
  if (!row) return;
  const followers: Followers = parse<Followers>(row.followers) ?? { callbacks: [], chords: [] };
  const { callbacks, chords } = followersToAdd({ callbacks: parse<Callback[]>(row.callbacks) ?? [], chord: parse<ChordMember>(row.chord), followers }, job);
  if (callbacks.length === 0 && chords.length === 0) return;
  if (isFinal(row.state)) return fire(scope, holder, row, callbacks, chords);
  followers.callbacks.push(...callbacks);
  followers.chords.push(...chords);
  await run(tx, `UPDATE ${t.jobs} SET followers = $2 WHERE id = $1`, [holder, JSON.stringify(followers)]);
}

/** Take the chord's lock for the rest of the transaction. */
async function lockChord(scope: FinishScope, chordId: string): Promise<void> {
  await run(scope.tx, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`conveyor chord ${scope.schema} ${chordId}`]);
}

async function chordResults(tx: Tx, t: Tables, chordId: string): Promise<ChordRow[]> {
  return run<ChordRow>(tx, `SELECT idx, member_id, state, result, error FROM ${t.chords} WHERE chord_id = $1 ORDER BY idx`, [chordId]);
}

async function markChord(scope: FinishScope, chord: ChordMember, memberId: string, row: FinishedRow, error: ErrorInfo | null): Promise<void> {
  const { tx, t } = scope;
  const chordId = chord.callback.id;
  await lockChord(scope, chordId);
  const errorText = error ? JSON.stringify(error) : null;
  const result = row.state === 'SUCCESS' ? (row.result ?? 'null') : null;
  const marked = await run(tx, `INSERT INTO ${t.chords} (chord_id, idx, member_id, state, result, error) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chord_id, idx) DO NOTHING RETURNING 1`,
    [chordId, chord.index, memberId, row.state, result, errorText]);
  if (marked.length === 0) {
    // The same outcome recorded again is the same mark; another one is counted.
    const recorded = (await chordResults(tx, t, chordId)).find((o) => o.idx === chord.index)!;
    const same = recorded.state === 'SUCCESS'
      ? row.state === 'SUCCESS' && recorded.result === result
      : recorded.member_id === memberId && recorded.state === row.state && recorded.error === errorText;
    if (!same) await count(tx, t, 'callbacks_deduplicated_total');
    return;
  }
  const outcomes = await chordResults(tx, t, chordId);
  if (outcomes.length < chord.size) return;
  const failed = outcomes.find((o) => o.state !== 'SUCCESS');
  let created: boolean;
  if (!failed) {
    created = await scope.insert({ ...chord.callback, argsJson: prependArg(chordArgs(outcomes.map((o) => o.result)), chord.callback.argsJson) }, { parent: null, state: 'PENDING', error: null });
  } else {
    const failure = chordError(failed.member_id, failed.idx, failed.state, parse<ErrorInfo>(failed.error));
    created = await scope.insert(chord.callback, { parent: null, state: 'FAILURE', error: failure });
    if (created && chord.callback.callbacks?.length) await finish(scope, chordId);
  }
  if (!created) await count(tx, t, 'callbacks_deduplicated_total');
}

const chordArgs = (results: readonly (string | null)[]) => `[${results.map((r) => r ?? 'null').join(',')}]`;

/**
 * The args of a chord's callback failed with a ChordError, for its dead-letter retry (see
 * sqlite/finish.ts): null when a member has not succeeded or is gone; undefined when the job is
 * no chord's callback.
 */
export async function chordRetryArgs(tx: Tx, t: Tables, chordId: string, argsJson: string): Promise<string | null | undefined> {
  const outcomes = await chordResults(tx, t, chordId);
  if (outcomes.length === 0) return undefined;
  const results: string[] = [];
  for (const o of outcomes) {
    if (o.state === 'SUCCESS') {
      results.push(o.result ?? 'null');
      continue;
    }
    const [now] = await run<{ state: string; result: string | null }>(tx, `SELECT state, result FROM ${t.jobs} WHERE id = $1`, [o.member_id]);
    if (now?.state !== 'SUCCESS') return null;
    results.push(now.result ?? 'null');
  }
  return prependArg(chordArgs(results), argsJson);
}

function parse<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
