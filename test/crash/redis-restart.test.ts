/**
 * Redis dies mid-run (kill -9) and comes back on the same port and folder, its AOF fsynced on
 * every write (`appendfsync always`): the worker processes reconnect on their own, no job whose
 * `delay()` resolved is lost, none is left stuck, and while Redis is down `delay()` fails within
 * its bound, saying so, instead of hanging.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Conveyor, StoreUnavailableError } from '../../src/index.js';
import { startRedis, uniquePrefix, type RedisServer } from '../redis/servers.js';
import { effects, killWorkers, producer, startWorker, waitFor, type WorkerProcess } from './processes.js';

/** How long a command waits for Redis to come back before failing (the app's, not the workers'). */
const MAX_RETRY_WAIT_MS = 1_000;
/** How long Redis stays down: past the workers' 1 s leases, so leases lapse while it is away. */
const DOWN_MS = 1_500;

describe('restart Redis under running workers', () => {
  let redis: RedisServer;
  let dir: string;
  let storeUrl: string;
  let app: Conveyor;
  before(async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    dir = mkdtempSync(join(tmpdir(), 'conveyor-restart-'));
    storeUrl = `${redis.url}/0?prefix=${uniquePrefix()}`;
    app = new Conveyor({ store: `${storeUrl}&maxRetryWaitMs=${MAX_RETRY_WAIT_MS}` });
  });
  after(async () => {
    await killWorkers();
    await app?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('workers reconnect on their own, nothing acknowledged is lost, nothing is stuck, and delay() fails fast while Redis is down', async () => {
    const effectsFile = join(dir, 'effects.log');
    // Each worker also listens on a queue of its own, so the test can tell that each one came back.
    const workers: WorkerProcess[] = [];
    for (const n of [1, 2]) {
      workers.push(await startWorker(storeUrl, effectsFile, ['--concurrency', '3', '--lease', '1s', '--queues', `default,only-${n}`]));
    }
    const logs = () => `${workers.map((w) => w.output()).join('\n')}\n--- redis ---\n${redis.output()}`;
    const stream = producer(app);
    await waitFor('some jobs done and some running', async () => {
      const done = effects(effectsFile).filter((e) => e.kind === 'done').length;
      const running = (await app.store.jobsList({ states: ['STARTED'], limit: 100 })).length;
      return done >= 10 && running >= 1;
    }, 20_000, logs);

    // Crash Redis. Everything acknowledged so far was fsynced to the AOF before its reply.
    await redis.down('SIGKILL');
    const downSince = Date.now();
    const started = Date.now();
    const error = await app.send('quick', [0]).then(() => null, (err: unknown) => err);
    const elapsed = Date.now() - started;
    assert.ok(error instanceof StoreUnavailableError, `delay() while Redis is down rejects with StoreUnavailableError, got ${String(error)}`);
    assert.match(error.message, /Redis/);
    assert.match(error.message, /unreachable/i);
    assert.ok(elapsed < 3_000, `delay() gave up in ${elapsed} ms, within its ${MAX_RETRY_WAIT_MS} ms bound (plus slack)`);
    await sleep(Math.max(0, DOWN_MS - (Date.now() - downSince)));
    await redis.up();

    // Keep sending for a while against the restarted server, then one job to each worker's own queue.
    const sentBeforeRestart = stream.acknowledged.length;
    await waitFor('sends to succeed again', () => stream.acknowledged.length >= sentBeforeRestart + 20, 20_000, logs);
    await stream.stop();
    const acknowledged = [...stream.acknowledged];
    const own = await Promise.all([1, 2].map((n) => app.send<number>('quick', [n], { queue: `only-${n}` })));

    // Nothing acknowledged was lost by the crash.
    const missing = (await Promise.all(acknowledged.map(async (id) => ((await app.store.jobGet(id)) ? null : id)))).filter((id) => id !== null);
    assert.deepEqual(missing, [], 'every job whose delay() resolved survived the Redis crash');

    // Every one ends SUCCESS, and nothing is left waiting or running (lapsed leases recovered).
    const ids = [...acknowledged, ...own.map((r) => r.id)];
    await waitFor('every acknowledged job to succeed and none to be stuck', async () => {
      const states = await Promise.all(ids.map((id) => app.result(id).state()));
      const open = await app.store.jobsList({ states: ['PENDING', 'STARTED', 'RETRY'], limit: 10 });
      return states.every((st) => st === 'SUCCESS') && open.length === 0;
    }, 30_000, logs);

    // The same worker processes did it: alive all along, each back at work on its own queue.
    for (const w of workers) assert.equal(w.child.exitCode ?? w.child.signalCode, null, `worker ${w.child.pid} still runs: ${w.output()}`);
    const done = effects(effectsFile).filter((e) => e.kind === 'done');
    own.forEach((r, i) => {
      assert.deepEqual(done.filter((e) => e.id === r.id).map((e) => e.pid), [workers[i].child.pid], `worker ${i + 1} ran its own queue's job after the restart`);
    });
    // At-least-once: each acknowledged job's effect happened.
    const doneIds = new Set(done.map((e) => e.id));
    assert.deepEqual(acknowledged.filter((id) => !doneIds.has(id)), [], 'every acknowledged job ran to its effect');

    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal(await w.exited, 0, w.output());
  });
});
