/**
 * Leases renewed from a thread of their own, beside an inline pool: a handler that computes
 * synchronously for minutes blocks the worker's event loop, not its renewals. The thread opens
 * its own connection to the store (by URL) and runs a {@link LeaseKeeper}.
 *
 * The thread also makes the worker's reservations (reserve, settle + reserve): a job reserved
 * by a call of the event loop would have no renewal until that loop read the answer — and a
 * handler blocking it meanwhile would let the new lease lapse before anyone knew of it. Here the
 * thread holds a job's lease the moment the store hands it over. The worker drops leases as it
 * settles them, and hears of lost leases when its loop is free again (a lost lease changes
 * nothing before then: the handler cannot be told anyway).
 *
 * Messages, worker -> thread: hold, drop, describe, beat (answered by `beaten`), call (a
 * reservation, answered by `answer`), stop (`stopped`); thread -> worker: lost, log, beaten,
 * answer, stopped.
 */
import type { Worker as Thread } from 'node:worker_threads';
import type { ErrorInfo } from '../errors.js';
import type { LeaseRef, Store } from '../store/store.js';
import { sibling, spawnThread } from '../runtime/spawn-thread.js';
import type { LeaseEvents, LeaseKeeperOptions, Leases, WorkerRecord } from './lease-keeper.js';

/** What the thread is started with. */
export interface LeaseThreadData extends LeaseKeeperOptions {
  storeUrl: string;
}

export type ToLeaseThread =
  | { t: 'hold' | 'drop'; leases: LeaseRef[] }
  | { t: 'describe'; worker: WorkerRecord }
  | { t: 'beat'; n: number }
  | { t: 'call'; n: number; op: ReserveOp; params: unknown }
  | { t: 'stop' };

/** The reservations the thread makes for the worker. */
export type Reserver = Pick<Store, 'jobsReserve' | 'jobsSettleAndReserve'>;
export type ReserveOp = keyof Reserver;

export type FromLeaseThread =
  | { t: 'lost'; lease: LeaseRef; reason: Parameters<LeaseEvents['lost']>[1]; terminate: boolean }
  | { t: 'log'; level: 'warn' | 'error'; obj: object; msg: string }
  | { t: 'beaten'; n: number }
  | { t: 'answer'; n: number; ok: true; value: unknown }
  | { t: 'answer'; n: number; ok: false; error: ErrorInfo }
  | { t: 'stopped' };

/** An error that crossed from the thread as its record. */
function errorOf(info: ErrorInfo): Error {
  return Object.assign(new Error(info.message), { name: info.type, code: info.code, stack: info.stack });
}


export class LeaseThread implements Leases, Reserver {
  readonly where = 'thread' as const;
  readonly #thread: Thread;
  readonly #beats = new Map<number, () => void>();
  readonly #calls = new Map<number, { resolve(value: never): void; reject(err: Error): void }>();
  #n = 0;
  #stopped: Promise<void> | undefined;
  #exited = false;

  constructor(data: LeaseThreadData, events: LeaseEvents) {
    this.#thread = spawnThread(sibling(import.meta.url, 'lease-thread-main'), { workerData: data, stdout: false, stderr: false });
    this.#thread.on('message', (m: FromLeaseThread) => {
      if (m.t === 'lost') events.lost(m.lease, m.reason, m.terminate);
      else if (m.t === 'log') events[m.level](m.obj, m.msg);
      else if (m.t === 'beaten') this.#settleBeat(m.n);
      else if (m.t === 'answer') {
        const call = this.#calls.get(m.n);
        this.#calls.delete(m.n);
        this.#waited();
        if (m.ok) call?.resolve(m.value as never);
        else call?.reject(errorOf(m.error));
      }
    });
    this.#thread.on('error', (err) => events.error({ err }, 'the lease thread failed; leases are no longer renewed, so this worker\'s jobs return to the queue after their lease'));
    this.#thread.on('exit', () => {
      this.#exited = true;
      for (const n of [...this.#beats.keys()]) this.#settleBeat(n);
      for (const call of this.#calls.values()) call.reject(new Error('the lease thread has stopped'));
      this.#calls.clear();
    });
    // Like the worker's timers, it keeps the process alive only while the worker waits for an
    // answer from it (a worker used through runOnce() and never stopped must not hold its
    // process open). After the listeners: adding one refs the thread again.
    this.#thread.unref();

  }

  #post(message: ToLeaseThread): void {
    if (!this.#exited) this.#thread.postMessage(message);
  }

  #settleBeat(n: number): void {
    this.#beats.get(n)?.();
    this.#beats.delete(n);
    this.#waited();
  }

  /** An answer is awaited: keep the process alive until it comes. */
  #waiting(): void {
    if (this.#beats.size + this.#calls.size === 1) this.#thread.ref();
  }

  #waited(): void {
    if (this.#beats.size + this.#calls.size === 0) this.#thread.unref();
  }

  hold(leases: readonly LeaseRef[]): void {
    if (leases.length) this.#post({ t: 'hold', leases: leases.map(({ id, token }) => ({ id, token })) });
  }

  drop(leases: readonly LeaseRef[]): void {
    if (leases.length) this.#post({ t: 'drop', leases: leases.map(({ id, token }) => ({ id, token })) });
  }

  jobsReserve(params: Parameters<Reserver['jobsReserve']>[0]): ReturnType<Reserver['jobsReserve']> {
    return this.#call('jobsReserve', params);
  }

  jobsSettleAndReserve(params: Parameters<Reserver['jobsSettleAndReserve']>[0]): ReturnType<Reserver['jobsSettleAndReserve']> {
    return this.#call('jobsSettleAndReserve', params);
  }

  #call<T>(op: ReserveOp, params: unknown): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('the lease thread has stopped'));
    const n = ++this.#n;
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(n, { resolve: resolve as (v: never) => void, reject });
      this.#waiting();
      this.#post({ t: 'call', n, op, params });
    });
  }

  describe(worker: WorkerRecord): void {
    this.#post({ t: 'describe', worker });
  }

  start(): void {
    // The thread registers and starts beating as soon as it has opened the store.
  }

  beat(): Promise<void> {
    if (this.#exited) return Promise.resolve();
    const n = ++this.#n;
    return new Promise<void>((resolve) => {
      this.#beats.set(n, resolve);
      this.#waiting();
      this.#post({ t: 'beat', n });
    });
  }

  stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      if (this.#exited) return resolve();
      this.#thread.ref();
      this.#thread.once('exit', () => resolve());
      this.#post({ t: 'stop' });
    });
    return this.#stopped;
  }
}
