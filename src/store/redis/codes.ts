/**
 * The named codes the Lua scripts answer, and what they mean on the Store interface. Scripts
 * never answer magic numbers; an unknown code is a bug and throws.
 */
import type { EnqueueResult, LossReason, StepOutcome, WriteOutcome } from '../store.js';

/** A fenced write's code → its outcome. */
const FENCE_CODES: Record<string, { reason: LossReason; terminate: boolean } | null> = {
  OK: null,
  STALE: { reason: 'stale', terminate: false },
  REVOKED: { reason: 'revoked', terminate: false },
  REVOKED_TERMINATE: { reason: 'revoked', terminate: true },
  FINAL: { reason: 'final', terminate: false },
  MISSING: { reason: 'missing', terminate: false },
};

export function fenceOutcome(id: string, code: string): WriteOutcome {
  const loss = FENCE_CODES[code];
  if (loss === undefined) throw new Error(`Redis script answered an unknown code "${code}" for job ${id}`);
  return loss === null ? { id, ok: true } : { id, ok: false, ...loss };
}

/** A step read or write's code (a fence code) and the recorded result → its outcome. */
export function stepOutcome(code: string, resultJson: string | null | undefined): StepOutcome {
  const outcome = fenceOutcome('(step)', code);
  return outcome.ok ? { ok: true, resultJson: resultJson ?? null } : { ok: false, reason: outcome.reason, terminate: outcome.terminate };
}

/** enqueue.lua's code per job: EXISTS (id already stored) and HELD (key held) created nothing. */
const ENQUEUE_CODES: Record<string, boolean> = { CREATED: true, EXISTS: false, HELD: false };

/**
 * enqueue.lua's reply `{ codes, holders }` for jobs `ids`: one result per job; a HELD job answers
 * the next holder id, in order.
 */
export function enqueueResults(ids: readonly string[], [codes, holders]: [string[], string[]]): EnqueueResult[] {
  let held = 0;
  return ids.map((id, i) => {
    const created = ENQUEUE_CODES[codes[i]!];
    if (created === undefined) throw new Error(`Redis script answered an unknown enqueue code "${codes[i]}" for job ${id}`);
    return { id: codes[i] === 'HELD' ? holders[held++]! : id, created };
  });
}

export const POOL_RELEASE_CODES = { RELEASED: 'released', NOT_HELD: 'not-held' } as const;
export const POOL_RENEW_CODES = { OK: 'ok', NOT_HELD: 'not-held' } as const;
export const REVOKE_CODES = { REVOKED: 'revoked', FINAL: 'final', MISSING: 'missing' } as const;
export const RETRY_CODES = { RETRIED: 'retried', NOT_FINAL: 'not-final', MISSING: 'missing', KEY_HELD: 'key-held', CHORD_FAILED: 'chord-failed' } as const;

/** Map a code through a table, refusing codes the table does not know. */
export function decode<T extends Record<string, string>>(table: T, code: unknown): T[keyof T] {
  const value = table[code as keyof T];
  if (value === undefined) throw new Error(`Redis script answered an unknown code ${JSON.stringify(code)}`);
  return value;
}
