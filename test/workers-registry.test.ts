/**
 * The worker registry on every engine: a started worker is listed (id, host, pid, queues,
 * running jobs, counts), refreshed by its heartbeat, dropped when it stops or its heartbeat
 * lapses; `conveyor inspect workers` shows it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { Conveyor, Worker } from '../src/index.js';
import { STORES } from './crash/processes.js';
import { describeEngines } from './exactly-once/engines.js';
import { freshStore } from './fixtures/fresh-store.js';
import { deferred, idle, keepAlive, silent, T0, turns, within } from './helpers.js';

const LIMIT = { timeout: 20_000 };
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describeEngines('worker registry', (world) => {

  it('a started worker is listed with its queues, running jobs and counts, and stop() removes it', LIMIT, async () => {
    const w = world();
    const gate = deferred();
    const hold = w.app.task({ name: 'hold' }, async () => gate.promise);
    const quick = w.app.task({ name: 'quick' }, async () => 'done');
    const worker = w.worker({ concurrency: 3, queues: ['default'] });
    const release = keepAlive();
    try {
      const r = await hold.delay();
      worker.start();
      const started = within(5000, (async () => {
        // STARTED in the store, and running in its slot (a remote store's jobs start a turn later).
        while ((await r.state()) !== 'STARTED' || worker.active === 0) await turns(2);
      })());
      assert.notEqual(await started, 'hung');
      await worker.heartbeat();
      assert.deepEqual(await w.store.workersList(), [{
        id: 'w1', hostname: os.hostname(), pid: process.pid, queues: ['default'], concurrency: 3, startedAt: T0, lastSeenAt: T0,
        active: [{ id: r.id, task: 'hold', startedAt: T0 }], counts: { succeeded: 0, failed: 0, retried: 0, released: 0, lost: 0 },
        pool: { kind: 'inline', children: [], recycled: 0, crashed: 0, blocked: { count: 0, seconds: 0 } },
      }]);
      const q = await quick.delay();
      gate.resolve();
      assert.equal(await within(5000, r.get()), null);
      // Both done: on a remote store `quick` may be reserved only after `hold` settled.
      assert.equal(await within(5000, q.get()), 'done');
      await idle(worker);
      w.clock.now += 500;
      await worker.heartbeat();
      const [info] = await w.store.workersList();
      assert.deepEqual(info!.active, []);
      assert.equal(info!.counts.succeeded, 2);
      assert.equal(info!.lastSeenAt, T0 + 500);
      await worker.stop();
      assert.deepEqual(await w.store.workersList(), []);
    } finally {
      release();
    }
  });

  it('a worker whose heartbeats stop drops out after about three heartbeat intervals', LIMIT, async () => {
    const w = world();
    const [a, b] = [w.worker({ heartbeatInterval: '1s' }), w.worker({ heartbeatInterval: '1s' })];
    await Promise.all([a.heartbeat(), b.heartbeat()]);
    assert.deepEqual((await w.store.workersList()).map((x) => x.id).sort(), ['w1', 'w2']);
    w.clock.now += 2000;
    await a.heartbeat(); // b has stopped beating (a frozen or killed process)
    w.clock.now += 1500;
    assert.deepEqual((await w.store.workersList()).map((x) => x.id), ['w1']);
  });
});

for (const engine of STORES) describe(`conveyor inspect workers (${engine.name})`, () => {
  before(() => engine.ready());

  it('lists live workers as a table, and as JSON with --json', LIMIT, async () => {
    const store = freshStore(engine);
    const app = new Conveyor({ store: store.url, logger: silent });
    // Listed for three heartbeat intervals after its one heartbeat: long enough for three CLI
    // processes on a loaded machine (the default, 1 s, lists it for 3 s only).
    const worker = new Worker(app, { workerId: 'inspect-me', queues: ['emails', 'default'], concurrency: 7, logger: silent, heartbeatInterval: '10m' });
    try {
      await worker.heartbeat();
      const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'inspect', 'workers', '--store', store.url, ...args], { cwd: root });
      const json = JSON.parse((await cli('--json')).stdout) as { id: string; queues: string[]; concurrency: number; pid: number }[];
      assert.deepEqual(json.map((x) => [x.id, x.queues, x.concurrency, x.pid]), [['inspect-me', ['emails', 'default'], 7, process.pid]]);
      const table = (await cli()).stdout;
      assert.match(table, /worker.*host.*pid.*queues.*running/);
      assert.match(table, /inspect-me.*emails,default.*0\/7/);
      assert.equal(JSON.parse((await cli('--json', '-Q', 'reports')).stdout).length, 0, '-Q filters by queue');
    } finally {
      await app.close();
      await store.remove();
    }
  });
});
