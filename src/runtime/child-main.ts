/**
 * The entry of a pool's child, a worker thread or a child process (see child-pool.ts): load the
 * app, then run the jobs the supervisor hands over, one at a time, with `ctx`'s store writes
 * (steps, progress) proxied to the supervisor, which makes them fenced by the delivery's token.
 */
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, threadId, workerData, Worker as Thread } from 'node:worker_threads';
import { pino } from 'pino';
import { errorInfo } from '../errors.js';
import { loadApp } from './app-module.js';
import type { ChildInit, FromChild, ToChild } from './child-protocol.js';
import { errorFromInfo, runJob, type JobIo, type RunningJob } from './run-job.js';

const inThread = !isMainThread;
const init: ChildInit = inThread ? (workerData as ChildInit) : (JSON.parse(process.env.CONVEYOR_CHILD_INIT ?? '{}') as ChildInit);
const send = (m: FromChild): void => {
  if (inThread) parentPort!.postMessage(m);
  else process.send?.(m);
};
const listen = (fn: (m: ToChild) => void): void => {
  if (inThread) parentPort!.on('message', fn);
  else process.on('message', fn as (m: unknown) => void);
};

/**
 * A child process outlives a parent killed with SIGKILL unless it notices, and one busy in a
 * synchronous loop notices nothing on its own event loop: a tiny thread watches the parent pid
 * and kills this process when it changes. Signals meant for the supervisor (Ctrl-C reaches the
 * whole process group) are left to it: it decides when its children stop.
 */
function guardAgainstOrphaning(parentPid: number): void {
  const watch = `const { workerData } = require('node:worker_threads');
setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 250);`;
  new Thread(watch, { eval: true, workerData: parentPid }).unref();
  process.on('disconnect', () => process.exit(1));
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
}

/**
 * Memory this child uses: a process's resident set; a thread's own heap (the RSS is the whole
 * process's). Read at most every 100 ms rather than after every job (short jobs need not pay for
 * it; a recycle decided a job later changes nothing).
 */
let memory = { mb: 0, at: -Infinity };
const memoryMb = (): number => {
  const now = performance.now();
  if (now - memory.at >= 100) memory = { mb: Math.round((inThread ? getHeapStatistics().used_heap_size : process.memoryUsage.rss()) / 1048576), at: now };
  return memory.mb;
};

/** Calls to the supervisor awaiting its reply. */
const calls = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
let n = 0;
const call = (op: keyof JobIo, params: unknown): Promise<never> => new Promise((resolve, reject) => {
  calls.set(++n, { resolve: resolve as (v: unknown) => void, reject });
  send({ t: 'call', n, op, params });
});
const io: JobIo = {
  jobStepGet: (params) => call('jobStepGet', params),
  jobStepPut: (params) => call('jobStepPut', params),
  jobProgress: (params) => call('jobProgress', params),
};

async function main(): Promise<void> {
  if (!inThread) guardAgainstOrphaning(init.parentPid);
  // Log records go to the supervisor, which writes them in its own format beside its own.
  const logger = pino({ level: init.logLevel, base: { childPid: inThread ? threadId : process.pid } }, { write: (line: string) => send({ t: 'log', line }) });
  let running: { job: { id: string; token: number }; run: RunningJob } | undefined;
  let exitWhenIdle = false;
  listen((m) => {
    if (m.t === 'reply') {
      const pending = calls.get(m.n);
      calls.delete(m.n);
      if (m.ok) pending?.resolve(m.value);
      else pending?.reject(errorFromInfo(m.error));
    } else if (m.t === 'abort') {
      if (!running || running.job.id !== m.id || running.job.token !== m.token) return;
      if (m.why.kind === 'shutdown') running.run.abort('shutdown');
      else running.run.lost(m.why.reason, m.why.terminate);
    } else if (m.t === 'exit') {
      exitWhenIdle = true;
      if (!running) process.exit(0);
    } else if (m.t === 'run') {
      // ctx.transaction runs here, on this child's own connection to the store: the tx is the handler's.
      const run = runJob(app, m.job, logger, { io, transactions: app.store, enforceTimeLimit: false });
      running = { job: m.job, run };
      void run.settlement.then((settlement) => {
        running = undefined;
        send({ t: 'done', id: m.job.id, token: m.job.token, settlement: settlement!, memoryMb: memoryMb() });
        if (exitWhenIdle) process.exit(0);
      });
    }
  });
  let app: Awaited<ReturnType<typeof loadApp>>;
  try {
    app = await loadApp(init.appModule);
    if (init.storeUrl) app.useStore(init.storeUrl);
  } catch (err) {
    send({ t: 'failed', error: errorInfo(err) });
    // Let the message go out before the channel closes.
    setTimeout(() => process.exit(1), 50);
    return;
  }
  send({ t: 'ready' });
}

void main();
