/** Mapping between a job's Redis hash (short field names, see lua/include/lib.lua) and a JobRecord. */
import type { ErrorInfo } from '../../errors.js';
import type { JobState } from '../../states.js';
import type { DeliveryRecord, JobProgress, JobRecord, ParentInfo, StepRecord } from '../store.js';
import { decodeCallbacks, decodeChord, decodeFollowers } from './wire.js';

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

/** The `par` field: ParentInfo JSON built by Lua, its result kept as a string (exact text). */
export const toParent = (par: string | null | undefined): ParentInfo | null => (par ? (JSON.parse(par) as ParentInfo) : null);

/** A job hash as HGETALL answers it, or null when empty (no such job). */
export function toRecord(id: string, queue: string, h: Record<string, string>): JobRecord | null {
  if (!h.s) return null;
  return {
    id,
    task: h.t!,
    queue,
    state: h.s as JobState,
    argsJson: h.a!,
    resultJson: h.res ?? null,
    error: h.err ? (JSON.parse(h.err) as ErrorInfo) : null,
    priority: Number(h.p),
    attempt: Number(h.at ?? 1),
    deliveries: Number(h.d ?? 0),
    token: Number(h.tk ?? 0),
    worker: h.w ?? null,
    enqueuedAt: Number(h.e),
    runAt: Number(h.r),
    startedAt: num(h.st),
    finishedAt: num(h.f),
    leaseExpiresAt: num(h.l),
    expiresAt: num(h.x),
    maxDeliveries: Number(h.md),
    idempotencyKey: h.ik ?? null,
    callbacks: decodeCallbacks(h.cb),
    chord: decodeChord(h.ch),
    followers: decodeFollowers(h.fl),
    parent: toParent(h.par),
    progress: toProgress(h.pg),
    history: toHistory(h.hi),
  };
}

/** The `pg` field: "<at>:<fraction>:<info JSON, empty for null>". */
function toProgress(pg: string | undefined): JobProgress | null {
  if (pg === undefined) return null;
  const [, at, fraction, info] = /^([^:]*):([^:]*):([\s\S]*)$/.exec(pg)!;
  return { fraction: Number(fraction), infoJson: info === '' ? null : info!, at: Number(at) };
}

/** The `hi` field: one DeliveryRecord JSON object per line, each ended by a newline. */
function toHistory(hi: string | undefined): DeliveryRecord[] {
  if (!hi) return [];
  return JSON.parse(`[${hi.slice(0, -1).replaceAll('\n', ',')}]`) as DeliveryRecord[];
}

/** The FIFO position of a job (its `sq` field), for oldest-first listings. */
export const seqOf = (h: Record<string, string>): number => Number(h.sq ?? 0);

/** A job's `steps:<id>` hash (name → "<order>:<token>:<recorded_at>:<result>") in recording order. */
export function toSteps(hash: Record<string, string>): StepRecord[] {
  return Object.entries(hash)
    .map(([name, value]) => {
      const [, order, token, recordedAt, resultJson] = /^([^:]*):([^:]*):([^:]*):([\s\S]*)$/.exec(value)!;
      return { order: Number(order), step: { name, resultJson: resultJson!, token: Number(token), recordedAt: Number(recordedAt) } };
    })
    .sort((a, b) => a.order - b.order)
    .map((s) => s.step);
}
