/** The lease thread's entry (see lease-thread.ts): open the store, keep the leases, answer. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorInfo } from '../errors.js';
import { openStore } from '../store/open.js';
import type { ReservedJob } from '../store/store.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { FromLeaseThread, LeaseThreadData, ToLeaseThread } from './lease-thread.js';

const data = workerData as LeaseThreadData;
const port = parentPort!;
const send = (m: FromLeaseThread): void => port.postMessage(m);
// Errors cross as their text: a thread cannot hand its Error objects to the worker's logger.
const plain = (obj: object): object => {
  const err = (obj as { err?: unknown }).err;
  return err instanceof Error ? { ...obj, err: { type: err.name, message: err.message, stack: err.stack } } : obj;
};

const store = openStore(data.storeUrl);
const keeper = new LeaseKeeper(store, data, {
  lost: (lease, reason, terminate) => send({ t: 'lost', lease, reason, terminate }),
  warn: (obj, msg) => send({ t: 'log', level: 'warn', obj: plain(obj), msg }),
  error: (obj, msg) => send({ t: 'log', level: 'error', obj: plain(obj), msg }),
});

let started = false;
port.on('message', (m: ToLeaseThread) => {
  if (m.t === 'hold') keeper.hold(m.leases);
  else if (m.t === 'drop') keeper.drop(m.leases);
  else if (m.t === 'describe') {
    keeper.describe(m.worker);
    if (!started) keeper.start(); // the worker describes itself before it starts: register with that
    started = true;
  }
  else if (m.t === 'call') void reserve(m.n, m.op, m.params);
  else if (m.t === 'beat') void keeper.beat().catch(() => {}).finally(() => send({ t: 'beaten', n: m.n }));
  else if (m.t === 'stop') {
    void keeper.stop().then(() => store.close()).finally(() => {
      send({ t: 'stopped' });
      port.close();
    });
  }
});

/** Make a reservation and hold the new leases before anyone else hears of them. */
async function reserve(n: number, op: 'jobsReserve' | 'jobsSettleAndReserve', params: unknown): Promise<void> {
  try {
    const value = op === 'jobsReserve' ? await store.jobsReserve(params as never) : await store.jobsSettleAndReserve(params as never);
    const jobs: ReservedJob[] = Array.isArray(value) ? value : value.jobs;
    keeper.hold(jobs);
    send({ t: 'answer', n, ok: true, value });
  } catch (err) {
    send({ t: 'answer', n, ok: false, error: errorInfo(err) });
  }
}
