/**
 * What crosses from TypeScript into the Lua scripts: the argument lists of enqueue and settle,
 * and the wire JSON of a job's callbacks and chord membership, as stored in its hash (`cb`, `ch`;
 * layout in lua/include/lib.lua). Lua reads these with cjson but must never re-encode user JSON
 * (cjson prints numbers with 14 digits and turns `[]` into `{}`), so every user JSON text —
 * args, nested callbacks — travels as a JSON *string*, which cjson decodes and encodes exactly.
 * Numbers are strings too, so Lua writes them back unchanged.
 */
import type { Callback, CallbackJob, ChordMember, JobRecord, NewJob, Settlement } from '../store.js';

/** A callback's job as Lua reads it. */
interface SpecWire {
  id: string;
  t: string;
  q: string;
  a: string;
  p: string;
  md: string;
  /** The job's own callbacks (wire JSON); absent when the job had no `callbacks` property. */
  cb?: string;
}

interface CallbackWire {
  on: Callback['on'];
  pr: boolean;
  j: SpecWire;
  /** Callback.join, when set. */
  jn?: string;
}

interface ChordWire {
  i: number;
  n: number;
  j: SpecWire;
}

function toSpec(job: CallbackJob): SpecWire {
  const spec: SpecWire = { id: job.id, t: job.task, q: job.queue, a: job.argsJson, p: String(job.priority), md: String(job.maxDeliveries) };
  if (job.callbacks !== undefined) spec.cb = encodeCallbacks(job.callbacks);
  return spec;
}

function fromSpec(spec: SpecWire): CallbackJob {
  const job: CallbackJob = { id: spec.id, task: spec.t, queue: spec.q, argsJson: spec.a, priority: Number(spec.p), maxDeliveries: Number(spec.md) };
  if (spec.cb !== undefined) job.callbacks = decodeCallbacks(spec.cb);
  return job;
}

function toCallbackWire(c: Callback): CallbackWire {
  const wire: CallbackWire = { on: c.on, pr: c.passResult, j: toSpec(c.job) };
  if (c.join !== undefined) wire.jn = c.join;
  return wire;
}

function fromCallbackWire(c: CallbackWire): Callback {
  const callback: Callback = { on: c.on, passResult: c.pr, job: fromSpec(c.j) };
  if (c.jn !== undefined) callback.join = c.jn;
  return callback;
}

export function encodeCallbacks(callbacks: readonly Callback[]): string {
  return JSON.stringify(callbacks.map(toCallbackWire));
}

export function decodeCallbacks(wire: string | undefined): Callback[] {
  if (!wire) return [];
  return (JSON.parse(wire) as CallbackWire[]).map(fromCallbackWire);
}

/**
 * The `fl` field (followers, written by Lua's cjson): `{cb = [callback wire], ch = [chord wire]}`,
 * where cjson writes an empty list as `{}`.
 */
export function decodeFollowers(wire: string | undefined): JobRecord['followers'] {
  if (!wire) return { callbacks: [], chords: [] };
  const fl = JSON.parse(wire) as { cb: CallbackWire[] | Record<string, never>; ch: ChordWire[] | Record<string, never> };
  const list = <T>(v: T[] | Record<string, never>): T[] => (Array.isArray(v) ? v : []);
  return { callbacks: list(fl.cb).map(fromCallbackWire), chords: list(fl.ch).map((c) => ({ index: c.i, size: c.n, callback: fromSpec(c.j) })) };
}

export function encodeChord(chord: ChordMember): string {
  return JSON.stringify({ i: chord.index, n: chord.size, j: toSpec(chord.callback) } satisfies ChordWire);
}

export function decodeChord(wire: string | undefined): ChordMember | null {
  if (!wire) return null;
  const c = JSON.parse(wire) as ChordWire;
  return { index: c.i, size: c.n, callback: fromSpec(c.j) };
}

/** An outbox entry (lib.lua's delivery), as far as the relay reads it. */
export type Delivery =
  | { k: 'cb'; j: SpecWire }
  | { k: 'mark'; j: SpecWire }
  /** Under Cluster: a deleted job's id, to release from the registry (the JSON names its queue `q`). */
  | { k: 'unclaim'; id: string; queue: string };

/** Read an outbox entry. */
export function parseDelivery(text: string): Delivery {
  const d = JSON.parse(text) as Delivery | { k: 'unclaim'; id: string; q: string };
  return d.k === 'unclaim' ? { k: 'unclaim', id: d.id, queue: (d as { q: string }).q } : d;
}

/** A time as the scripts read it: epoch ms, or "+<ms>" for that long after the store's now. */
function wireTime(at: number | null, after: number | undefined): string | number {
  return at ?? `+${after ?? 0}`;
}

/** Append a job as the enqueue script's seven arguments. */
export function pushJob(args: (string | number)[], job: NewJob): void {
  args.push(job.id, job.task, job.argsJson, job.priority, wireTime(job.runAt, job.delayMs), job.maxDeliveries, jobExtras(job));
}

/**
 * enqueue.lua's last argument: '' for a plain job, else a JSON object of strings (cjson reads
 * strings exactly) with the fields it has: x, ik, it, cb, ch.
 */
function jobExtras(job: NewJob): string {
  const idem = job.idempotency;
  const expires = job.expiresAt !== null || job.expiresInMs !== undefined;
  if (!expires && !idem && !job.callbacks?.length && !job.chord) return '';
  const extras: Record<string, string> = {};
  if (expires) extras.x = String(wireTime(job.expiresAt, job.expiresInMs));
  if (idem) extras.ik = idem.key;
  if (idem && idem.ttlMs !== null) extras.it = String(idem.ttlMs);
  if (job.callbacks?.length) extras.cb = encodeCallbacks(job.callbacks);
  if (job.chord) extras.ch = encodeChord(job.chord);
  return JSON.stringify(extras);
}

/** Append a settlement as the settle script's five arguments. */
export function pushSettlement(args: (string | number)[], s: Settlement): void {
  switch (s.kind) {
    case 'complete':
      if (s.resultJson === null) args.push('complete_null', s.id, s.token, '', s.resultTtlMs);
      else args.push('complete', s.id, s.token, s.resultJson, s.resultTtlMs);
      return;
    case 'fail':
      args.push('fail', s.id, s.token, JSON.stringify(s.error), '');
      return;
    case 'retry':
      args.push('retry', s.id, s.token, JSON.stringify(s.error), s.delayMs);
      return;
    case 'release':
      args.push('release', s.id, s.token, '', '');
  }
}
