/**
 * Execution pools with real worker processes (`conveyor worker --pool inline|threads|processes`):
 * synchronous CPU-bound handlers keep their leases, hard time limits stop code that never
 * yields, `ctx` works in a child, and a child that crashes, is recycled, is orphaned by kill -9
 * or is stopped by a revoke costs no more than its own delivery.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TaskFailedError } from '../../src/index.js';
import { effectRecords, POOL_APP, scratch, startWorker, STORES, waitFor, type Scratch, type WorkerProcess } from './processes.js';

const POOLS = ['inline', 'threads', 'processes'] as const;
const CHILD_POOLS = ['threads', 'processes'] as const;

/** A worker on the pool app. */
function poolWorker(s: Scratch, pool: string, args: string[] = [], nodeArgs: string[] = []): Promise<WorkerProcess> {
  return startWorker(s.storeUrl, s.effectsFile, ['--pool', pool, '--lease', '1s', ...args], { app: POOL_APP, nodeArgs });
}

/** The child pids (or thread ids) the banner lists. */
function bannerChildren(w: WorkerProcess): number[] {
  const m = /\((?:threads|processes): \d+ \w+, (?:thread ids|pids) ([\d, ]+)\)/.exec(w.output());
  assert.ok(m, w.output());
  return m[1]!.split(', ').map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopWorker(w: WorkerProcess): Promise<void> {
  w.child.kill('SIGTERM');
  assert.equal(await w.exited, 0, w.output());
}

/** The error a failed job's `get()` rejects with. */
async function failure(get: Promise<unknown>): Promise<TaskFailedError> {
  try {
    await get;
  } catch (err) {
    return err as TaskFailedError;
  }
  assert.fail('the job succeeded');
}

for (const store of STORES) describe(`pools (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  for (const pool of POOLS) {
    it(`${pool}: four jobs that compute synchronously for 4 s on two workers with a 1 s lease each start once and succeed`, async () => {
      const app = s.app();
      const workers = await Promise.all([0, 1].map(() => poolWorker(s, pool, ['--concurrency', '2', '--metrics-port', '0'])));
      const jobs = await Promise.all([0, 1, 2, 3].map(() => app.send<{ pid: number; thread: number }>('cpu', [4000])));
      const results = await Promise.all(jobs.map((r) => r.get({ timeout: 90_000 })));
      const ids = new Set(jobs.map((r) => r.id));
      const starts = effectRecords(s.effectsFile).filter((e) => e.kind === 'start' && ids.has(e.id));
      assert.deepEqual(starts.map((e) => e.id).sort(), [...ids].sort(), `each handler started once: ${JSON.stringify(starts)}\n${workers.map((w) => w.output()).join('\n')}`);
      for (const r of jobs) {
        const info = await r.info();
        assert.deepEqual([info.state, info.fencingToken, info.deliveries], ['SUCCESS', 1, 1]);
      }
      const workerPids = workers.map((w) => w.child.pid);
      for (const result of results) {
        if (pool === 'inline') assert.ok(workerPids.includes(result.pid) && result.thread === 0, 'inline: on the worker\'s own thread');
        if (pool === 'threads') assert.ok(workerPids.includes(result.pid) && result.thread > 0, 'threads: in a worker thread');
        if (pool === 'processes') assert.ok(!workerPids.includes(result.pid), 'processes: in a child process');
      }
      if (pool === 'inline') {
        // Each blocked its worker's loop for 4 s: said in the log with the job, and counted in metrics.
        const logs = () => workers.map((w) => w.output()).join('\n');
        const said = (id: string) => new RegExp(`event loop blocked for \\d+\\.\\d{3}s by cpu\\[${id}\\]`).test(logs());
        await waitFor('each block in the log', () => [...ids].every(said), 10_000, logs);
        let blocks = 0;
        for (const w of workers) {
          const port = /\[metrics\] http:\/\/localhost:(\d+)\/metrics/.exec(w.output())![1];
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          blocks += Number(/conveyor_worker_event_loop_blocked_seconds_count\{task="cpu"\} (\d+)/.exec(text)?.[1] ?? 0);
        }
        assert.equal(blocks, 4);
      }
      await Promise.all(workers.map(stopWorker));
      await app.close();
    });
  }

  for (const pool of POOLS) {
    it(`${pool}: ctx works where the handler runs — steps, progress, retry, soft time limit, errors with their type and stack`, async () => {
      const app = s.app();
      const w = await poolWorker(s, pool, ['--concurrency', '2']);
      const ok = await app.send<Record<string, unknown>>('context', [false]);
      const seen = await ok.get({ timeout: 30_000 });
      const runner = seen.pid as number;
      assert.deepEqual(seen, {
        id: ok.id, name: 'context', queue: 'default', attempt: 1, deliveries: 1, token: 1, step: { token: 1, pid: runner },
        key: `${ok.id}:once`, parent: null, aborted: false, thread: seen.thread, pid: runner,
      });
      assert.equal(runner === w.child.pid, pool !== 'processes');
      assert.equal((seen.thread as number) > 0, pool === 'threads');
      assert.deepEqual((await app.store.jobSteps(ok.id)).map((st) => [st.name, st.resultJson, st.token]), [['once', JSON.stringify({ token: 1, pid: runner }), 1]]);
      const progress = (await ok.info()).progress;
      assert.deepEqual([progress?.fraction, progress?.info], [0.5, { half: true }]);

      const declined = await app.send('context', [true]);
      const err = await failure(declined.get({ timeout: 30_000 }));
      assert.deepEqual([err.error.type, err.error.message, err.error.code], ['PaymentDeclined', `card declined in ${declined.id}`, 'DECLINED']);
      assert.match(err.error.stack ?? '', /^PaymentDeclined: card declined in [\s\S]*pool-app\.ts:\d+/);

      const retried = await app.send('retried', []);
      assert.equal(await retried.get({ timeout: 30_000 }), 2);
      assert.equal((await retried.info()).attempts, 2);

      const soft = await app.send('softly', []);
      const softErr = await failure(soft.get({ timeout: 30_000 }));
      assert.deepEqual([softErr.error.type, softErr.error.message, softErr.error.code], ['SoftTimeLimitExceededError', 'task exceeded its soft time limit of 300 ms', 'SOFT_TIME_LIMIT_EXCEEDED']);
      assert.deepEqual(effectRecords(s.effectsFile).filter((e) => e.id === soft.id && e.kind === 'aborted').map((e) => [e.reason, e.code]), [['SoftTimeLimitExceededError', 'SOFT_TIME_LIMIT_EXCEEDED']]);
      await stopWorker(w);
      await app.close();
    });
  }

  for (const pool of CHILD_POOLS) {
    it(`${pool}: a runaway synchronous loop fails with TimeLimitExceededError and the worker goes on serving`, async () => {
      const app = s.app();
      const w = await poolWorker(s, pool, ['--concurrency', '2']);
      const spin = await app.send('spin', []);
      await waitFor('the loop to start', () => effectRecords(s.effectsFile).some((e) => e.id === spin.id && e.kind === 'start'), 20_000, w.output);
      const beside = await app.send('whoami', []);
      await beside.get({ timeout: 20_000 }); // served by the other child while the loop runs
      const err = await failure(spin.get({ timeout: 30_000 }));
      assert.deepEqual([err.error.type, err.error.message, err.error.code], ['TimeLimitExceededError', 'task exceeded its time limit of 2000 ms', 'TIME_LIMIT_EXCEEDED']);
      assert.equal((await spin.info()).fencingToken, 1, 'failed, not redelivered');
      const afterwards = await Promise.all([0, 1, 2].map(() => app.send('whoami', [])));
      await Promise.all(afterwards.map((r) => r.get({ timeout: 20_000 })));
      await waitFor('the registry to show the replacement', async () => {
        const [me] = await app.store.workersList();
        return me?.pool?.crashed === 1 && me.pool.children.length === 2;
      }, 20_000, w.output);
      assert.equal(w.child.exitCode, null, 'the worker lives');
      assert.match(w.output(), new RegExp(`Task spin\\[${spin.id}\\] stopped \\(time limit of 2000 ms\\)`));
      await stopWorker(w);
      await app.close();
    });

    it(`${pool}: a child that dies running a job loses only that delivery; it runs again, then fails with WorkerLostError`, async () => {
      const app = s.app({ maxDeliveries: 2 });
      // A small heap so running out of memory is quick (threads get the worker's heap limit).
      const w = await poolWorker(s, pool, ['--concurrency', '3'], ['--max-old-space-size=128']);
      const hows = pool === 'processes' ? ['uncaught', 'exit', 'oom', 'abort'] : ['uncaught', 'exit', 'oom'];
      const doomed = await Promise.all(hows.map((how) => app.send('crash', [how])));
      const once = await Promise.all(hows.map((how) => app.send('crash', [how, true])));
      const served = await app.send('whoami', []);
      for (const r of once) assert.equal(await r.get({ timeout: 90_000 }), 'survived');
      for (const r of doomed) {
        const err = await failure(r.get({ timeout: 90_000 }));
        assert.equal(err.error.type, 'WorkerLostError');
        assert.equal(err.error.message, `job ${r.id} was delivered 2 times and its worker was lost each time (killed, crashed or frozen past its lease); giving up`);
      }
      await served.get({ timeout: 20_000 });
      for (const r of [...doomed, ...once]) {
        assert.deepEqual(effectRecords(s.effectsFile).filter((e) => e.id === r.id && e.kind === 'start').map((e) => e.deliveries), [1, 2]);
      }
      assert.equal(w.child.exitCode, null, 'the worker lives');
      await waitFor('the registry to count the crashes', async () => (await app.store.workersList())[0]?.pool?.crashed === hows.length * 3, 20_000, w.output);
      await stopWorker(w);
      await app.close();
    });

    it(`${pool}: --max-tasks-per-child and --max-memory-per-child replace children between jobs`, async () => {
      const app = s.app();
      for (const limit of [['--max-tasks-per-child', '1'], ['--max-memory-per-child', '1']]) {
        const w = await poolWorker(s, pool, ['--concurrency', '1', ...limit]);
        const ran = new Set<string>();
        for (let i = 0; i < 3; i++) {
          const who = await (await app.send<{ pid: number; thread: number }>('whoami', [])).get({ timeout: 20_000 });
          ran.add(`${who.pid}:${who.thread}`);
        }
        assert.equal(ran.size, 3, `${limit.join(' ')}: each job in a fresh child`);
        await waitFor('the registry to count the recycling', async () => ((await app.store.workersList())[0]?.pool?.recycled ?? 0) >= 2, 20_000, w.output);
        assert.equal((await app.store.workersList())[0]!.pool!.crashed, 0);
        await stopWorker(w);
      }
      await app.close();
    });

    it(`${pool}: revoke with terminate stops a handler that never yields; the worker goes on`, async () => {
      const app = s.app();
      const w = await poolWorker(s, pool, ['--concurrency', '1']);
      const stuck = await app.send('waits', []);
      await waitFor('the handler to start', () => effectRecords(s.effectsFile).some((e) => e.id === stuck.id && e.kind === 'start'), 20_000, w.output);
      const ran = effectRecords(s.effectsFile).find((e) => e.id === stuck.id)!;
      assert.equal(await app.revoke(stuck.id, { terminate: true }), 'revoked');
      // One child: the next job runs only once the stuck one is stopped.
      const next = await app.send<{ pid: number; thread: number }>('whoami', []);
      const who = await next.get({ timeout: 20_000 });
      assert.notEqual(`${who.pid}:${who.thread}`, `${ran.pid}:${ran.thread}`, 'a fresh child');
      if (pool === 'processes') await waitFor('the stuck process to be gone', () => !alive(ran.pid), 5_000);
      assert.equal(await stuck.state(), 'REVOKED');
      await stopWorker(w);
      await app.close();
    });

    it(`${pool}: SIGTERM waits for the children's jobs, or releases them past the grace period, and leaves no child behind`, async () => {
      const app = s.app();
      const w = await poolWorker(s, pool, ['--concurrency', '2', '--shutdown-grace', '30s']);
      const finishing = await app.send('nap', [1500]);
      await waitFor('the job to start', async () => (await finishing.state()) === 'STARTED', 20_000, w.output);
      const children = bannerChildren(w);
      await stopWorker(w);
      assert.equal(await finishing.state(), 'SUCCESS');

      const g = await poolWorker(s, pool, ['--concurrency', '2', '--shutdown-grace', '200ms']);
      const held = await app.send('nap', [600_000]);
      await waitFor('the job to start', async () => (await held.state()) === 'STARTED', 20_000, g.output);
      const graceChildren = bannerChildren(g);
      await stopWorker(g);
      const released = await held.info();
      assert.deepEqual([released.state, released.deliveries], ['PENDING', 0]);
      if (pool === 'processes') for (const pid of [...children, ...graceChildren]) assert.equal(alive(pid), false, `child ${pid} is gone`);
      await app.revoke(held.id);
      await app.close();
    });
  }

  it('processes: kill -9 of the worker leaves no child behind, even one busy in a synchronous loop; its job comes back after the lease', async () => {
    const app = s.app();
    const w = await poolWorker(s, 'processes', ['--concurrency', '2']);
    const children = bannerChildren(w);
    const stuck = await app.send('waits', []);
    await waitFor('the handler to start', () => effectRecords(s.effectsFile).some((e) => e.id === stuck.id && e.kind === 'start'), 20_000, w.output);
    w.child.kill('SIGKILL');
    await w.exited;
    await waitFor('the children to exit', () => children.every((pid) => !alive(pid)), 10_000, w.output);
    const next = await poolWorker(s, 'processes', ['--concurrency', '1']);
    await waitFor('another worker to take the job', () => effectRecords(s.effectsFile).some((e) => e.id === stuck.id && e.kind === 'start' && e.token === 2), 30_000, next.output);
    await app.revoke(stuck.id, { terminate: true });
    await stopWorker(next);
    await app.close();
  });
});
