/**
 * Shared setup of the unit tests (json, duration, retry, api, worker): a fresh SQLite file per
 * test, a fake clock the test moves by hand, a silent logger, and small promise helpers so tests
 * await events instead of sleeping.
 *
 * Terminology:
 * - T0     where the fake clock starts in every test (epoch ms).
 * - world  one test's app, store, clock and temp folder; `close()` removes it all.
 * - gate   a promise the test opens by hand, so a handler runs exactly as long as the test says.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Conveyor, Worker, type ConveyorOptions, type WorkerOptions } from '../src/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';

export const T0 = 1_700_000_000_000;

/** A logger that prints nothing: tests assert on states, not on log lines. */
export const silent = pino({ level: 'silent' });

/** One test's world. */
export interface World {
  dir: string;
  file: string;
  /** The fake clock: move it with `clock.now += ms`. */
  clock: { now: number };
  store: SqliteStore;
  app: Conveyor;
  /** A worker on this world's app with a silent logger (and `workerId` 'w1' unless given). */
  worker(options?: WorkerOptions): Worker;
  close(): Promise<void>;
}

/**
 * A fresh store file and app. With `realClock`, both use Date.now (for tests driving `start()`,
 * whose heartbeats and polls run on real timers); otherwise both read the fake clock.
 */
export function world(options: Omit<ConveyorOptions, 'store' | 'clock'> & { realClock?: boolean } = {}): World {
  const { realClock, ...appOptions } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-'));
  const file = path.join(dir, 'conveyor.db');
  const clock = { now: T0 };
  const now = realClock ? Date.now : () => clock.now;
  const store = new SqliteStore(file, { clock: now });
  const app = new Conveyor({ ...appOptions, store, clock: now });
  let n = 0;
  return {
    dir, file, clock, store, app,
    worker(workerOptions = {}) {
      return new Worker(app, { logger: silent, workerId: `w${++n}`, ...workerOptions });
    },
    async close() {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A promise with its resolve exposed. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  settled: boolean;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const d: Deferred<T> = {
    settled: false,
    promise: new Promise<T>((r) => (resolve = r)),
    resolve(value: T) {
      d.settled = true;
      resolve(value);
    },
  };
  return d;
}

/** Every job the store holds, oldest first. */
export async function allJobs(app: Conveyor) {
  return app.store.jobsList({ limit: 1000 });
}

/** Let pending promise callbacks and I/O callbacks run (not a sleep: no time has to pass). */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Hold the event loop open until the returned function is called. The worker's own timers are
 * unref'd (a worker must not keep a process alive by itself), so a test awaiting a heartbeat
 * while its handler waits on a bare promise would otherwise see the loop drain.
 */
export function keepAlive(): () => void {
  const timer = setInterval(() => {}, 60_000);
  return () => clearInterval(timer);
}

/**
 * Wait until `worker` holds no job, then let its loop park. Tests stop a started worker only
 * once it is idle, so they do not depend on how `stop()` drains (worker-shutdown.test.ts does).
 */
export async function idle(worker: { active: number }): Promise<void> {
  while (worker.active > 0) await turns(1);
  await turns();
}

/** `promise`'s value, or 'hung' when it takes longer than `ms` (a guard, so a hang fails fast). */
export function within<T>(ms: number, promise: Promise<T>): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}
