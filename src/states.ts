/**
 * Job states, the one list every module uses. See docs/state-machine.md for the transitions.
 *
 * - PENDING  queued, or scheduled for later (an eta/countdown); also what an unknown id reports.
 * - STARTED  reserved by a worker, which holds a lease on it.
 * - RETRY    failed an attempt and waits for its next one (reservable once its time comes).
 * - SUCCESS  finished; its result is kept for the result TTL.
 * - FAILURE  failed for good; kept as a dead letter until retried or purged.
 * - REVOKED  cancelled by the user, or expired before it could start.
 */
export const JOB_STATES = ['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'] as const;

/** One of {@link JOB_STATES}. */
export type JobState = (typeof JOB_STATES)[number];

/** States a job never leaves on its own (a user may still retry a FAILURE or REVOKED job). */
export const FINAL_STATES: readonly JobState[] = ['SUCCESS', 'FAILURE', 'REVOKED'];

/** True when `state` is final. */
export function isFinal(state: JobState): boolean {
  return state === 'SUCCESS' || state === 'FAILURE' || state === 'REVOKED';
}
