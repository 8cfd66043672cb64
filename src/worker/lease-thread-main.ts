/** The lease thread's entry (see lease-thread.ts): open the store, keep the leases, answer. */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/open.js';
import { LeaseKeeper } from './lease-keeper.js';
import { LeaseLogReader } from './lease-log.js';
import { ALIVE_TICK_MS, type FromLeaseThread, type LeaseThreadData, type ToLeaseThread } from './lease-thread.js';

const data = workerData as LeaseThreadData;
const port = parentPort!;
const send = (m: FromLeaseThread): void => port.postMessage(m);
// Errors cross as their text: a thread cannot hand its Error objects to the worker's logger.
const plain = (obj: object): object => {
  const err = (obj as { err?: unknown }).err;
  return err instanceof Error ? { ...obj, err: { type: err.name, message: err.message, stack: err.stack } } : obj;
};

/**
 * The worker's loop counts as blocked when its counter has not moved for this long: four of its
 * ticks, and at least a third of a heartbeat (a busy loop's timers run late without being blocked).
 */
const BLOCKED_MS = Math.max(4 * ALIVE_TICK_MS, data.heartbeatMs / 3);
const alive = new Int32Array(data.alive);
let seen = Atomics.load(alive, 0);
let movedAt = performance.now();
const loopBlocked = (): boolean => {
  const now = Atomics.load(alive, 0);
  if (now !== seen) {
    seen = now;
    movedAt = performance.now();
    return false;
  }
  return performance.now() - movedAt >= BLOCKED_MS;
};

const log = new LeaseLogReader(data.log);
/** Apply what the worker wrote to the log since the last read. */
const readLog = (): void => {
  for (const { op, leases } of log.read()) {
    if (op === 'hold') keeper.hold(leases);
    else keeper.drop(leases);
  }
};

const store = openStore(data.storeUrl);
const keeper = new LeaseKeeper(store, { ...data, discover: { workerId: data.workerId, queues: data.queues, when: loopBlocked }, beforeRenew: readLog }, {
  lost: (lease, reason, terminate) => send({ t: 'lost', lease, reason, terminate }),
  warn: (obj, msg) => send({ t: 'log', level: 'warn', obj: plain(obj), msg }),
  error: (obj, msg) => send({ t: 'log', level: 'error', obj: plain(obj), msg }),
});

let started = false;
const reading = setInterval(readLog, ALIVE_TICK_MS);
send({ t: 'ready' }); // so drops land soon after the worker wrote them, not a heartbeat later
port.on('message', (m: ToLeaseThread) => {
  if (m.t === 'flush') readLog();
  else if (m.t === 'hold') keeper.hold(m.leases);
  else if (m.t === 'drop') keeper.drop(m.leases);
  else if (m.t === 'describe') {
    keeper.describe(m.worker);
    if (!started) keeper.start(); // the worker describes itself before it starts: register with that
    started = true;
  }
  else if (m.t === 'beat') void keeper.beat().catch(() => {}).finally(() => send({ t: 'beaten', n: m.n }));
  else if (m.t === 'stop') {
    clearInterval(reading);
    void keeper.stop().then(() => store.close()).finally(() => {
      send({ t: 'stopped' });
      port.close();
    });
  }
});
