/**
 * Worker Prometheus metrics on every engine: settled jobs by task and outcome, run time
 * histogram, lease losses, running jobs; served at /metrics by `MetricsServer` and by
 * `conveyor worker --metrics-port` (which here also runs `--beat`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { Conveyor, MetricsServer, PermanentError, WorkerMetrics } from '../src/index.js';
import { STORES } from './crash/processes.js';
import { describeEngines, drain } from './exactly-once/engines.js';
import { freshStore } from './fixtures/fresh-store.js';
import { deferred, silent, turns, within } from './helpers.js';

const LIMIT = { timeout: 20_000 };
const root = fileURLToPath(new URL('..', import.meta.url));

/** The value of one sample in Prometheus text, or undefined when absent. Labels in any order. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.keys(got).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describeEngines('worker metrics', (world) => {

  it('counts settled jobs by task and outcome, and their run times', LIMIT, async () => {
    const w = world();
    const ok = w.app.task({ name: 'ok' }, async (_ctx, n: number) => n);
    const slow = w.app.task({ name: 'slow' }, async () => sleep(60));
    const boom = w.app.task({ name: 'boom' }, async () => {
      throw new PermanentError('no');
    });
    const flaky = w.app.task({ name: 'flaky' }, async (ctx) => {
      if (ctx.attempt === 1) throw ctx.retry({ countdown: '1s' });
      return 'ok';
    });
    const metrics = new WorkerMetrics();
    const worker = w.worker({ metrics });
    await Promise.all([ok.delay(1), ok.delay(2), ok.delay(3), slow.delay(), boom.delay(), flaky.delay()]);
    await drain(w, worker);
    const text = await metrics.scrape();
    const settled = (task: string, outcome: string) => sample(text, 'conveyor_worker_jobs_settled_total', { task, outcome });
    assert.deepEqual(
      [settled('ok', 'succeeded'), settled('slow', 'succeeded'), settled('boom', 'failed'), settled('flaky', 'retried'), settled('flaky', 'succeeded'), settled('ok', 'failed')],
      [3, 1, 1, 1, 1, undefined],
    );
    assert.equal(sample(text, 'conveyor_worker_job_run_seconds_count', { task: 'ok' }), 3);
    assert.equal(sample(text, 'conveyor_worker_job_run_seconds_count', { task: 'flaky' }), 2);
    assert.equal(sample(text, 'conveyor_worker_job_run_seconds_bucket', { task: 'slow', le: '+Inf' }), 1);
    assert.equal(sample(text, 'conveyor_worker_job_run_seconds_bucket', { task: 'slow', le: '0.05' }), 0, 'a 60 ms job is not under 50 ms');
    assert.ok(sample(text, 'conveyor_worker_job_run_seconds_sum', { task: 'slow' })! >= 0.05);
    assert.equal(sample(text, 'conveyor_worker_jobs_running'), 0);
    assert.deepEqual(worker.counts, { succeeded: 5, failed: 1, retried: 1, released: 0, lost: 0 });
  });

  it('counts lease losses by reason, and the jobs running at scrape time', LIMIT, async () => {
    const w = world();
    const gate = deferred();
    const held = w.app.task({ name: 'held' }, async () => gate.promise);
    const metrics = new WorkerMetrics();
    const worker = w.worker({ metrics });
    const r = await held.delay();
    const pass = worker.runOnce();
    // The store says STARTED when the reserve commits, a moment before the worker holds the job.
    assert.notEqual(await within(5000, (async () => {
      while ((await r.state()) !== 'STARTED' || sample(await metrics.scrape(), 'conveyor_worker_jobs_running') !== 1) await turns(2);
    })()), 'hung');
    await w.app.revoke(r.id);
    gate.resolve();
    await pass;
    const text = await metrics.scrape();
    assert.equal(sample(text, 'conveyor_worker_jobs_settled_total', { task: 'held', outcome: 'lost' }), 1);
    assert.equal(sample(text, 'conveyor_worker_lease_losses_total', { task: 'held', reason: 'revoked' }), 1);
    assert.equal(sample(text, 'conveyor_worker_jobs_running'), 0);
  });

  it('MetricsServer serves GET /metrics, and 404 elsewhere', LIMIT, async () => {
    const w = world();
    const ok = w.app.task({ name: 'ok' }, async () => 1);
    const metrics = new WorkerMetrics();
    await ok.delay();
    await drain(w, w.worker({ metrics }));
    const server = new MetricsServer(metrics.registry, { port: 0, host: '127.0.0.1' });
    const port = await server.start();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/plain/);
      assert.equal(sample(await res.text(), 'conveyor_worker_jobs_settled_total', { task: 'ok', outcome: 'succeeded' }), 1);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      await server.stop();
    }
  });
});

for (const engine of STORES) describe(`conveyor worker --beat --metrics-port (${engine.name})`, () => {
  before(() => engine.ready());

  it('runs the schedules it sends and serves their counts at /metrics', { timeout: 60_000 }, async () => {
    const store = freshStore(engine);
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'worker', '--app', path.join(root, 'test/fixtures/beat-app.ts'), '--store', store.url, '--beat', '--metrics-port', '0', '--log-format', 'json'], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new Conveyor({ store: store.url, logger: silent });
    try {
      let stdout = '';
      let stderr = '';
      proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 30_000;
      let port: number | undefined;
      let done = 0;
      while (Date.now() < deadline && (port === undefined || done < 3)) {
        port ??= Number(/\[metrics\] http:\/\/localhost:(\d+)\/metrics/.exec(stdout)?.[1]) || undefined;
        done = (await app.store.jobsList({ task: 'beat.ping', states: ['SUCCESS'], limit: 100 })).length;
        await sleep(200);
      }
      assert.ok(port, `no metrics port in the banner:\n${stdout}\n${stderr}`);
      assert.ok(done >= 3, `only ${done} beat jobs ran:\n${stderr}`);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const succeeded = sample(text, 'conveyor_worker_jobs_settled_total', { task: 'beat.ping', outcome: 'succeeded' })!;
      const nowDone = (await app.store.jobsList({ task: 'beat.ping', states: ['SUCCESS'], limit: 100 })).length;
      assert.ok(succeeded >= done && succeeded <= nowDone, `${succeeded} settled, ${done}..${nowDone} SUCCESS`);
      assert.ok(sample(text, 'conveyor_worker_process_resident_memory_bytes')! > 0, 'process metrics are served too');
      proc.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await app.close();
      await store.remove();
    }
  });
});
