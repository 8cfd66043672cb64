/**
 * Leases renewed from a thread of their own, beside an inline pool: a handler that computes
 * synchronously for minutes blocks the worker's event loop, not its renewals. The thread opens
 * its own connection to the store (by URL) and runs a {@link LeaseKeeper}; the worker tells it
 * what to hold and drop with one message per batch, and hears of lost leases when its loop is
 * free again (a lost lease changes nothing before then: the handler cannot be told anyway).
 *
 * One gap remains: a job the store reserved while a handler blocks the loop has a lease the
 * worker has not read yet, so it cannot hold it. The loop bumps a shared counter every
 * {@link ALIVE_TICK_MS}; when the thread sees it stand still, it also looks in the store for the
 * jobs this worker holds (see LeaseKeeper's `discover`) and renews those too. Reservations stay
 * on the loop: routing each one through the thread cost 60-80% of no-op throughput.
 *
 * Holds and drops go through a log in shared memory (lease-log.ts), read by the thread on its
 * own timer: no message, and no wake-up of the thread, per batch.
 *
 * Messages, worker -> thread: describe, beat (answered by `beaten`), flush + hold/drop (when the
 * log is full), stop (`stopped`); thread -> worker: lost, log, beaten, stopped.
 */
import type { Worker as Thread } from 'node:worker_threads';
import type { LeaseRef } from '../store/store.js';
import { sibling, spawnThread } from '../runtime/spawn-thread.js';
import { LeaseLogWriter, leaseLogBuffer } from './lease-log.js';
import type { LeaseEvents, LeaseKeeperOptions, Leases, WorkerRecord } from './lease-keeper.js';

/** How often the worker's loop shows it is alive (bumps the shared counter). */
export const ALIVE_TICK_MS = 50;

/** What the thread is started with. */
export interface LeaseThreadData extends LeaseKeeperOptions {
  storeUrl: string;
  /** The worker's id and queues: where to look for its leases while its loop is blocked. */
  workerId: string;
  queues: string[];
  /** One Int32 the loop bumps every ALIVE_TICK_MS. */
  alive: SharedArrayBuffer;
  /** The hold and drop records (lease-log.ts). */
  log: SharedArrayBuffer;
}

export type ToLeaseThread =
  | { t: 'hold' | 'drop'; leases: LeaseRef[] }
  | { t: 'describe'; worker: WorkerRecord }
  | { t: 'beat'; n: number }
  /** Read the shared log now (a record that did not fit follows as a message). */
  | { t: 'flush' }
  | { t: 'stop' };

export type FromLeaseThread =
  | { t: 'lost'; lease: LeaseRef; reason: Parameters<LeaseEvents['lost']>[1]; terminate: boolean }
  | { t: 'log'; level: 'warn' | 'error'; obj: object; msg: string }
  | { t: 'beaten'; n: number }
  /** The store is open: leases can be renewed. */
  | { t: 'ready' }
  | { t: 'stopped' };


export class LeaseThread implements Leases {
  readonly where = 'thread' as const;
  /** Resolves once the thread has opened the store; rejects if the thread fails first. */
  readonly ready: Promise<void>;
  readonly #thread: Thread;
  readonly #beats = new Map<number, () => void>();
  readonly #alive: Int32Array;
  #isReady = false;
  readonly #aliveTimer: NodeJS.Timeout;
  #n = 0;
  #stopped: Promise<void> | undefined;
  #exited = false;
  readonly #log: LeaseLogWriter;

  constructor(options: Omit<LeaseThreadData, 'alive' | 'log'>, events: LeaseEvents) {
    const data: LeaseThreadData = { ...options, alive: new SharedArrayBuffer(4), log: leaseLogBuffer() };
    this.#log = new LeaseLogWriter(data.log);
    this.#alive = new Int32Array(data.alive);
    this.#aliveTimer = setInterval(() => Atomics.add(this.#alive, 0, 1), ALIVE_TICK_MS);
    this.#aliveTimer.unref();
    this.#thread = spawnThread(sibling(import.meta.url, 'lease-thread-main'), { workerData: data, stdout: false, stderr: false });
    let ready!: () => void;
    let failed!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
    this.ready.catch(() => {}); // the 'error' listener logs it too
    this.#thread.on('message', (m: FromLeaseThread) => {
      if (m.t === 'ready') {
        this.#isReady = true;
        ready();
        this.#waited();
      } else if (m.t === 'lost') events.lost(m.lease, m.reason, m.terminate);
      else if (m.t === 'log') events[m.level](m.obj, m.msg);
      else if (m.t === 'beaten') this.#settleBeat(m.n);
    });
    this.#thread.on('error', (err) => {
      failed(err);
      events.error({ err }, 'the lease thread failed; leases are no longer renewed, so this worker\'s jobs return to the queue after their lease');
    });
    this.#thread.on('exit', () => {
      this.#exited = true;
      failed(new Error('the lease thread exited before it had opened the store'));
      clearInterval(this.#aliveTimer);
      for (const n of [...this.#beats.keys()]) this.#settleBeat(n);
    });
  }

  #post(message: ToLeaseThread): void {
    if (!this.#exited) this.#thread.postMessage(message);
  }

  #settleBeat(n: number): void {
    this.#beats.get(n)?.();
    this.#beats.delete(n);
    this.#waited();
  }

  /**
   * Like the worker's timers, the thread keeps the process alive only while the worker waits for
   * it (to be ready, to answer a beat): a worker used through runOnce() and never stopped must not
   * hold its process open. A beat is awaited: keep the process alive until it is answered.
   */
  #waiting(): void {
    if (this.#beats.size === 1) this.#thread.ref();
  }

  #waited(): void {
    if (this.#beats.size === 0 && this.#isReady) this.#thread.unref();
  }

  hold(leases: readonly LeaseRef[]): void {
    this.#send('hold', leases);
  }

  drop(leases: readonly LeaseRef[]): void {
    this.#send('drop', leases);
  }

  /** Into the shared log; as a message only when the log is full (the thread reads both in order). */
  #send(op: 'hold' | 'drop', leases: readonly LeaseRef[]): void {
    if (leases.length === 0 || this.#log.write(op, leases)) return;
    this.#post({ t: 'flush' });
    this.#post({ t: op, leases: leases.map(({ id, token }) => ({ id, token })) });
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
