/**
 * PostgreSQL dies mid-run (kill -9 of the postmaster: a crash, recovered from the WAL at the next
 * start) and comes back on the same port and folder: the worker processes reconnect on their own,
 * no job whose `delay()` resolved is lost, none is left stuck, and while the server is down
 * `delay()` fails, saying so, instead of hanging.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Conveyor, StoreUnavailableError } from '../../src/index.js';
import { startPostgres, type PostgresServer } from '../../src/chaos/postgres-server.js';
import { effects, killWorkers, producer, startWorker, waitFor, type WorkerProcess } from './processes.js';

/** How long the server stays down: past the workers' 1 s leases, so leases lapse while it is away. */
const DOWN_MS = 1_500;

describe('restart PostgreSQL under running workers', () => {
  let server: PostgresServer;
  let dir: string;
  let storeUrl: string;
  let app: Conveyor;
  before(async () => {
    server = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'conveyor-restart-'));
    storeUrl = `${server.url}?schema=restart`;
    app = new Conveyor({ store: storeUrl });
  });
  after(async () => {
    await killWorkers();
    await app?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('workers reconnect on their own, nothing acknowledged is lost, nothing is stuck, and delay() fails while the server is down', { timeout: 120_000 }, async () => {
    const effectsFile = join(dir, 'effects.log');
    // Each worker also listens on a queue of its own, so the test can tell that each one came back.
    const workers: WorkerProcess[] = [];
    for (const n of [1, 2]) {
      workers.push(await startWorker(storeUrl, effectsFile, ['--concurrency', '3', '--lease', '1s', '--queues', `default,only-${n}`]));
    }
    const logs = () => `${workers.map((w) => w.output()).join('\n')}\n--- postgres ---\n${server.output()}`;
    const stream = producer(app);
    await waitFor('some jobs done and some running', async () => {
      const done = effects(effectsFile).filter((e) => e.kind === 'done').length;
      const running = (await app.store.jobsList({ states: ['STARTED'], limit: 100 })).length;
      return done >= 10 && running >= 1;
    }, 20_000, logs);

    // Crash the server. Everything acknowledged so far was committed (fsync on) before its reply.
    await server.down('SIGKILL');
    const downSince = Date.now();
    const error = await app.send('quick', [0]).then(() => null, (err: unknown) => err);
    assert.ok(error instanceof StoreUnavailableError, `delay() while PostgreSQL is down rejects with StoreUnavailableError, got ${String(error)}`);
    assert.match(error.message, /PostgreSQL at postgres:\/\/127\.0\.0\.1:\d+\/postgres \(schema restart\) is unreachable/);
    await sleep(Math.max(0, DOWN_MS - (Date.now() - downSince)));
    await server.up();

    // Keep sending for a while against the restarted server, then one job to each worker's own queue.
    const sentBeforeRestart = stream.acknowledged.length;
    await waitFor('sends to succeed again', () => stream.acknowledged.length >= sentBeforeRestart + 20, 30_000, logs);
    await stream.stop();
    const acknowledged = [...stream.acknowledged];
    const own = await Promise.all([1, 2].map((n) => app.send<number>('quick', [n], { queue: `only-${n}` })));

    const missing = (await Promise.all(acknowledged.map(async (id) => ((await app.store.jobGet(id)) ? null : id)))).filter((id) => id !== null);
    assert.deepEqual(missing, [], 'every job whose delay() resolved survived the crash');

    const ids = [...acknowledged, ...own.map((r) => r.id)];
    let unfinished = '';
    await waitFor('every acknowledged job to succeed and none to be stuck', async () => {
      const states = await Promise.all(ids.map((id) => app.result(id).state()));
      const open = await app.store.jobsList({ states: ['PENDING', 'STARTED', 'RETRY'], limit: 10 });
      unfinished = `not done: ${JSON.stringify(open.map((j) => ({ id: j.id, task: j.task, queue: j.queue, state: j.state, deliveries: j.deliveries, enqueuedAt: j.enqueuedAt })))}`;
      return states.every((st) => st === 'SUCCESS') && open.length === 0;
    }, 30_000, () => `${unfinished}\n${logs()}`);

    // The same worker processes did it: alive all along, each back at work on its own queue.
    for (const w of workers) assert.equal(w.child.exitCode ?? w.child.signalCode, null, `worker ${w.child.pid} still runs: ${w.output()}`);
    const done = effects(effectsFile).filter((e) => e.kind === 'done');
    own.forEach((r, i) => {
      assert.deepEqual(done.filter((e) => e.id === r.id).map((e) => e.pid), [workers[i]!.child.pid], `worker ${i + 1} ran its own queue's job after the restart`);
    });
    const doneIds = new Set(done.map((e) => e.id));
    assert.deepEqual(acknowledged.filter((id) => !doneIds.has(id)), [], 'every acknowledged job ran to its effect');

    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, w.output());
  });

  it('an app whose store was first used while the server was down works once it is up: opening is tried again at the next call', { timeout: 60_000 }, async () => {
    await server.down('SIGTERM');
    const late = new Conveyor({ store: `${server.url}?schema=late` });
    try {
      await assert.rejects(late.send('quick', [1]), (err: unknown) => err instanceof StoreUnavailableError && /PostgreSQL at .* \(schema late\) is unreachable/.test(err.message));
      await server.up();
      const r = await late.send<number>('quick', [1]);
      assert.equal((await r.info()).state, 'PENDING');
    } finally {
      await late.close();
    }
  });
});
