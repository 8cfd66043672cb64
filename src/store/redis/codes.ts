/**
 * The named codes the Lua scripts answer, and what they mean on the Store interface. Scripts
 * never answer magic numbers; an unknown code is a bug and throws.
 */
import type { LossReason, WriteOutcome } from '../store.js';

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

export const REVOKE_CODES = { REVOKED: 'revoked', FINAL: 'final', MISSING: 'missing' } as const;
export const RETRY_CODES = { RETRIED: 'retried', NOT_FINAL: 'not-final', MISSING: 'missing' } as const;

/** Map a code through a table, refusing codes the table does not know. */
export function decode<T extends Record<string, string>>(table: T, code: unknown): T[keyof T] {
  const value = table[code as keyof T];
  if (value === undefined) throw new Error(`Redis script answered an unknown code ${JSON.stringify(code)}`);
  return value;
}
