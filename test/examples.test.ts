/** The README's tutorial, run: a Fastify route answers 202, a worker runs the task, the status URL shows it. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';

const dir = mkdtempSync(join(tmpdir(), 'conveyor-example-'));
process.env.CONVEYOR_STORE = `sqlite:${join(dir, 'conveyor.db')}`;
// Imported after CONVEYOR_STORE is set, as a worker process started with it would.
const { buildServer } = await import('../examples/fastify/server.js');
const { app } = await import('../examples/fastify/tasks.js');
const { Worker } = await import('conveyor');

describe('examples/fastify', () => {
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('POST /signup answers 202 with a status URL that shows the result once a worker ran it', async () => {
    const server = buildServer();
    const res = await server.inject({ method: 'POST', url: '/signup', payload: { email: 'ann@example.com', name: 'Ann' } });
    assert.equal(res.statusCode, 202);
    const { taskId, statusUrl } = res.json() as { taskId: string; statusUrl: string };
    assert.equal(statusUrl, `/tasks/${taskId}`);
    assert.equal((await server.inject({ url: statusUrl })).json().state, 'PENDING');

    const worker = new Worker(app, { logger: pino({ level: 'silent' }) });
    assert.equal(await worker.runOnce(), 1);
    const status = (await server.inject({ url: statusUrl })).json();
    assert.deepEqual(status, { id: taskId, state: 'SUCCESS', result: { status: 'sent', to: 'ann@example.com', text: 'Welcome, Ann!' }, error: null });

    const bad = (await server.inject({ method: 'POST', url: '/signup', payload: { email: 'nobody', name: 'X' } })).json() as { statusUrl: string };
    await worker.runOnce();
    const failed = (await server.inject({ url: bad.statusUrl })).json();
    assert.equal(failed.state, 'FAILURE');
    assert.match(failed.error, /not an email address/);
    await server.close();
  });
});

/** Point CONVEYOR_STORE at a new SQLite file (removed after the file's tests) before importing an example. */
const dirs: string[] = [];
function useFreshStore(): void {
  const d = mkdtempSync(join(tmpdir(), 'conveyor-example-'));
  dirs.push(d);
  process.env.CONVEYOR_STORE = `sqlite:${join(d, 'conveyor.db')}`;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('examples/executor-pool', () => {
  it('twelve submissions on three executors: never more than three held, all free at the end', async () => {
    useFreshStore();
    const { main } = await import('../examples/executor-pool/main.js');
    const { app } = await import('../examples/executor-pool/tasks.js');
    const { results, free, maxBusy } = await main();
    assert.deepEqual(results.map((r) => r.value), Array.from({ length: 12 }, (_, i) => i * i + 1));
    assert.ok(results.every((r) => /^exec-[123]$/.test(r.executor)));
    assert.equal(free, 3);
    assert.ok(maxBusy <= 3);
    assert.equal((await app.counters()).double_release_total, 0);
    await app.close();
  });
});

describe('examples/reconcile-dns', () => {
  it('a changed row reaches the zone through the reconcile loop, nothing sent by the web app', async () => {
    useFreshStore();
    process.env.RECONCILE_EVERY = '1s';
    const { main } = await import('../examples/reconcile-dns/main.js');
    const { app } = await import('../examples/reconcile-dns/tasks.js');
    assert.deepEqual(await main(), { 'api.example.com': '10.0.0.9', 'www.example.com': '10.0.0.2' });
    const syncs = await app.store.jobsList({ task: 'dns.sync', limit: 100 });
    assert.equal(syncs.length, 3, 'each missing record sent once: two at start, one after the change');
    await app.close();
  });
});
