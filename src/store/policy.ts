/**
 * Decisions every engine makes the same way, and the records they write for them, written once
 * here. Engines stay mechanical: a TypeScript engine (SQLite, PostgreSQL) calls these functions;
 * a scripted engine (Redis' Lua) gets the same tables and templates as a prelude built from them
 * ({@link luaPolicy}), so no message or verdict is retyped in an engine. The conformance suite
 * pins the exact records on every engine.
 */
import { ChordError, fillTemplate, JobExpiredError, WorkerLostError, type ErrorInfo } from '../errors.js';
import { FINAL_STATES, JOB_STATES, type JobState } from '../states.js';
import type { Callback, ChordMember, JobRecord, LossReason, NewJob, WorkerInfo, WriteOutcome } from './store.js';

/** When a job may start: its eta, else `delayMs` after `now` (the store's clock, as it records the job). */
export function runAtOf(job: Pick<NewJob, 'runAt' | 'delayMs'>, now: number): number {
  return job.runAt ?? now + (job.delayMs ?? 0);
}

/** When a job expires: its instant, else `expiresInMs` after `now`, else never (null). */
export function expiresAtOf(job: Pick<NewJob, 'expiresAt' | 'expiresInMs'>, now: number): number | null {
  return job.expiresAt ?? (job.expiresInMs === undefined ? null : now + job.expiresInMs);
}

// ---- The error records a store writes on its own ----

/** The record of a job REVOKED at reserve because its expiry passed before it started. */
export function expiredError(id: string): ErrorInfo {
  return { type: 'JobExpiredError', code: 'EXPIRED', message: fillTemplate(JobExpiredError.template, { id }) };
}

/** The record of a job FAILED because its deliveries ran out (its worker was lost each time). */
export function workerLostError(id: string, deliveries: number): ErrorInfo {
  return { type: 'WorkerLostError', code: 'WORKER_LOST', message: fillTemplate(WorkerLostError.template, { id, deliveries }) };
}

/** The record of a job revoked by a user (`jobRevoke`), with the reason given. */
export function revokedError(reason: string | undefined): ErrorInfo {
  return { type: 'RevokedError', code: 'REVOKED', message: reason ?? 'revoked' };
}

/**
 * The record of a chord's callback failed at birth: `member` (of chord place `index`) ended
 * `state` with `cause`, the first member in index order that did not succeed.
 */
export function chordError(member: string, index: number, state: JobState, cause: ErrorInfo | null): ErrorInfo {
  return {
    type: 'ChordError', code: 'CHORD_FAILED',
    message: fillTemplate(ChordError.template, { member, index, state, type: cause?.type ?? 'Error', message: cause?.message ?? '' }),
  };
}

// ---- Fencing ----

/**
 * What a write fenced by the job's current token meets, by the job's state: 'ok' only while it
 * runs. A write naming any other token is 'stale' (a newer delivery replaced it).
 */
export const FENCE: Readonly<Record<JobState, 'ok' | LossReason>> = {
  STARTED: 'ok',
  REVOKED: 'revoked',
  // A lapsed lease put back in line: its writer is stale, though no delivery replaced it yet.
  PENDING: 'stale',
  RETRY: 'stale',
  SUCCESS: 'final',
  FAILURE: 'final',
};

/** The verdict on a write to job `id` with `token`, from the job's row (undefined: not stored). */
export function fenceVerdict(
  id: string,
  token: number,
  row: { state: JobState; token: number; terminate: boolean } | undefined,
): WriteOutcome {
  if (!row) return { id, ok: false, reason: 'missing', terminate: false };
  const verdict = row.token === token ? FENCE[row.state] : 'stale';
  if (verdict === 'ok') return { id, ok: true };
  return { id, ok: false, reason: verdict, terminate: verdict === 'revoked' && row.terminate };
}

// ---- Idempotency keys ----

/** What decides whether a key's latest job still holds it. */
export interface KeyHolderFacts {
  state: JobState;
  finishedAt: number | null;
  /** The key's TTL after the job is final (null: released at final). */
  ttlMs: number | null;
  /** When the job's result expires (it is gone then, even before it is deleted); null: kept. */
  keepUntil: number | null;
}

/**
 * Whether the job an idempotency key was given to last still holds it at `now`: while it exists
 * (its result TTL has not passed) and is not final, or is final and `finishedAt + ttlMs` is ahead.
 */
export function keyHeld(h: KeyHolderFacts, now: number): boolean {
  if (h.keepUntil !== null && h.keepUntil < now) return false;
  if (!FINAL_STATES.includes(h.state)) return true;
  return h.ttlMs !== null && h.finishedAt !== null && h.finishedAt + h.ttlMs > now;
}

// ---- Followers ----

/** Whether a deduplicated send leaves anything to follow its holder: a chain's next step or a chord place. */
export function leavesFollowers(job: Pick<NewJob, 'callbacks' | 'chord'>): boolean {
  return Boolean(job.chord) || (job.callbacks ?? []).some((c) => c.join !== undefined);
}

const placeOf = (chord: ChordMember) => `${chord.index}:${chord.callback.id}`;

/**
 * What a deduplicated send leaves to the job holding its id or key (see JobRecord.followers):
 * its chains' next steps (callbacks with a `join`) and its chord place, less what the holder has
 * already — its own callbacks and chord, and the followers others left — so the same chain sent
 * twice runs its next steps once, and a chord place is filled once.
 */
export function followersToAdd(
  holder: { callbacks: readonly Callback[]; chord: ChordMember | null; followers: JobRecord['followers'] },
  job: Pick<NewJob, 'callbacks' | 'chord'>,
): JobRecord['followers'] {
  const joins = new Set([...holder.callbacks, ...holder.followers.callbacks].map((c) => c.join));
  const places = new Set([...(holder.chord ? [holder.chord] : []), ...holder.followers.chords].map(placeOf));
  const callbacks: Callback[] = [];
  for (const c of job.callbacks ?? []) {
    if (c.join === undefined || joins.has(c.join)) continue;
    joins.add(c.join);
    callbacks.push(c);
  }
  return { callbacks, chords: job.chord && !places.has(placeOf(job.chord)) ? [job.chord] : [] };
}

// ---- The worker registry ----

/** A worker's registration as every store keeps it: the contract's fields only, in one order. */
export function workerRecord(w: Omit<WorkerInfo, 'lastSeenAt'>, lastSeenAt: number): WorkerInfo {
  return {
    id: w.id, hostname: w.hostname, pid: w.pid, queues: w.queues, concurrency: w.concurrency, startedAt: w.startedAt,
    lastSeenAt, active: w.active, counts: w.counts, ...(w.pool ? { pool: w.pool } : {}),
  };
}

// ---- The same, for Redis' Lua ----

/** A Lua string literal of ASCII text (Lua 5.1 has no \u escapes; the templates are ASCII). */
function luaString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`policy text for Lua must be printable ASCII: ${JSON.stringify(text)}`);
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const luaTable = (entries: [string, string][]) => `{ ${entries.map(([k, v]) => `${k} = ${v}`).join(', ')} }`;

/**
 * The prelude every Redis script starts with: this module's tables and templates as Lua values,
 * and `policy_error(name, values)` to fill a template as {@link fillTemplate} does. The scripts'
 * verdicts read `POLICY_FENCE` and `POLICY_FINAL`; `policy_key_held` is {@link keyHeld}.
 */
export function luaPolicy(): string {
  const errors: [string, ErrorInfo][] = [
    ['expired', { type: 'JobExpiredError', code: 'EXPIRED', message: JobExpiredError.template }],
    ['worker_lost', { type: 'WorkerLostError', code: 'WORKER_LOST', message: WorkerLostError.template }],
    ['chord', { type: 'ChordError', code: 'CHORD_FAILED', message: ChordError.template }],
  ];
  return [
    '-- Generated from src/store/policy.ts when the scripts are defined. Do not edit.',
    `local POLICY_ERRORS = ${luaTable(errors.map(([name, e]) => [name, luaTable([['type', luaString(e.type)], ['code', luaString(e.code!)], ['message', luaString(e.message)]])]))}`,
    `local POLICY_FENCE = ${luaTable(JOB_STATES.map((s) => [s, luaString(FENCE[s])]))}`,
    `local POLICY_FINAL = ${luaTable(FINAL_STATES.map((s) => [s, 'true']))}`,
    '-- The message of error template `name`, its {placeholders} filled from `values` in one pass.',
    'local function policy_message(name, values)',
    "  local message = string.gsub(POLICY_ERRORS[name].message, '{(%w+)}', function(k) local v = values[k]; if v ~= nil then return tostring(v) end end)",
    '  return message',
    'end',
    '-- The JSON error record of template `name`.',
    'local function policy_error(name, values)',
    '  local e = POLICY_ERRORS[name]',
    '  return cjson.encode({ type = e.type, code = e.code, message = policy_message(name, values) })',
    'end',
    '-- keyHeld(): whether the key\'s latest job (state s, finished f, key TTL it, result kept until ku;',
    '-- false when absent, as HMGET answers) holds it.',
    'local function policy_key_held(s, f, it, ku, now)',
    '  if ku and tonumber(ku) < now then return false end',
    '  if not POLICY_FINAL[s] then return true end',
    '  return (it and f and tonumber(f) + tonumber(it) > now) == true',
    'end',
    '',
  ].join('\n');
}
