/**
 * What the dead-letter retry on Redis (`retry_final.lua`) needs read first: a chord's callback
 * failed at birth (FAILURE, never started: a member did not succeed) runs with its members'
 * results, and the results of members that failed then and have succeeded since live in their
 * own jobs, maybe in other slots. The script reads the chord's marks itself; this reads the
 * members the marks name as failed.
 */
import type { JobRecord } from '../store.js';
import { call, type Client } from './connection.js';

/** What the retry reads with. */
export interface DeadLetterScope {
  client: Client;
  description: string;
  jobGet(id: string): Promise<JobRecord | null>;
}

/**
 * `retry_final.lua`'s extra arguments for job `id` at `base` (index, result JSON per member
 * that has succeeded since it failed), none for a job that is not a chord's callback failed at
 * birth; 'chord-failed' while such a member has not succeeded.
 */
export async function chordRetryArgs(scope: DeadLetterScope, base: string, id: string): Promise<(string | number)[] | 'chord-failed'> {
  const [state, started] = await call(scope.description, () => scope.client.hmget(`${base}job:${id}`, 's', 'st'));
  if (state !== 'FAILURE' || started !== null) return [];
  const marks = await call(scope.description, () => scope.client.hgetall(`${base}chord:${id}`));
  const failed = Object.entries(marks).filter(([, mark]) => !mark.startsWith('S'));
  const members = await Promise.all(failed.map(([, mark]) => {
    const member = failedMember(mark);
    return member === undefined ? null : scope.jobGet(member);
  }));
  const args: (string | number)[] = [];
  for (const [n, [index]] of failed.entries()) {
    const member = members[n];
    if (member?.state !== 'SUCCESS') return 'chord-failed';
    args.push(index, member.resultJson ?? 'null');
  }
  return args;
}

/** The member id in a chord mark of a member that did not succeed ("F" + JSON {m, e}); undefined for a mark written before marks named it. */
function failedMember(mark: string): string | undefined {
  try {
    const m = (JSON.parse(mark.slice(1)) as { m?: unknown }).m;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
