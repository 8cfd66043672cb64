/**
 * Decisions every engine makes the same way, written once here (engines stay mechanical; a
 * scripted engine, Redis' Lua, mirrors them line for line, and the conformance suite holds both
 * to the same answers).
 */
import type { NewJob } from './store.js';

/** When a job may start: its eta, else `delayMs` after `now` (the store's clock, as it records the job). */
export function runAtOf(job: Pick<NewJob, 'runAt' | 'delayMs'>, now: number): number {
  return job.runAt ?? now + (job.delayMs ?? 0);
}

/** When a job expires: its instant, else `expiresInMs` after `now`, else never (null). */
export function expiresAtOf(job: Pick<NewJob, 'expiresAt' | 'expiresInMs'>, now: number): number | null {
  return job.expiresAt ?? (job.expiresInMs === undefined ? null : now + job.expiresInMs);
}
