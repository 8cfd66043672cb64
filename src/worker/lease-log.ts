/**
 * A one-way log in shared memory from the worker's loop to the lease thread: "hold" and "drop"
 * records of leases. A message per batch woke the thread thousands of times a second (a third of
 * no-op throughput); the thread reads this log on a timer of its own and before each renewal.
 *
 * Layout: an Int32Array of two offsets (head: next byte the writer writes, tail: next byte the
 * reader reads), then a ring of bytes; one byte stays free so a full ring differs from an empty
 * one. A record is one batch as a JSON line, `["hold",[[id,token],…]]\n` (JSON escapes any
 * newline inside an id). One writer (the loop), one reader (the thread).
 */
import type { LeaseRef } from '../store/store.js';

const HEAD = 0;
const TAIL = 1;
const HEADER_BYTES = 8;

/** A log of `bytes` bytes of records. */
export function leaseLogBuffer(bytes = 1 << 20): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + bytes);
}

export type LeaseOp = 'hold' | 'drop';

/** The two ends' view of a log buffer: its offsets and its ring. */
class LeaseLogEnd {
  protected readonly offsets: Int32Array;
  protected readonly ring: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.offsets = new Int32Array(buffer, 0, 2);
    this.ring = new Uint8Array(buffer, HEADER_BYTES);
  }
}

export class LeaseLogWriter extends LeaseLogEnd {
  /** Append the records; false (nothing written) when the ring has no room for all of them. */
  write(op: LeaseOp, leases: readonly LeaseRef[]): boolean {
    const bytes = Buffer.from(`${JSON.stringify([op, leases.map((l) => [l.id, l.token])])}\n`);
    const size = this.ring.length;
    const head = Atomics.load(this.offsets, HEAD);
    const free = (Atomics.load(this.offsets, TAIL) - head - 1 + size) % size;
    if (bytes.length > free) return false;
    const first = Math.min(bytes.length, size - head);
    this.ring.set(bytes.subarray(0, first), head);
    if (first < bytes.length) this.ring.set(bytes.subarray(first), 0);
    Atomics.store(this.offsets, HEAD, (head + bytes.length) % size);
    return true;
  }
}

export class LeaseLogReader extends LeaseLogEnd {
  /** Every batch written since the last read, in order. */
  read(): { op: LeaseOp; leases: LeaseRef[] }[] {
    const head = Atomics.load(this.offsets, HEAD);
    const tail = Atomics.load(this.offsets, TAIL);
    if (head === tail) return [];
    // slice() copies out of shared memory (TextDecoder refuses shared views).
    const bytes = head > tail ? this.ring.slice(tail, head) : Buffer.concat([this.ring.slice(tail), this.ring.slice(0, head)]);
    Atomics.store(this.offsets, TAIL, head);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    return text.split('\n').filter(Boolean).map((line) => {
      const [op, pairs] = JSON.parse(line) as [LeaseOp, [string, number][]];
      return { op, leases: pairs.map(([id, token]) => ({ id, token })) };
    });
  }
}
