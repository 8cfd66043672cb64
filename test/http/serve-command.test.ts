/**
 * `conveyor serve` as a real process (dist/src/cli/main.js, so `npm run build` first), once per
 * engine: it prints its URL, serves the API with the app's tasks, exposes /metrics, and closes
 * on SIGTERM with exit code 0. A public bind without a token is refused before anything starts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CLI, CRASH_APP, scratch, STORES, waitFor, type Scratch } from '../crash/processes.js';

interface ServeProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<number | string>;
}

const live = new Set<ChildProcess>();

async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  void exited.then(() => live.delete(child));
  await waitFor('serve to print its URL', () => /listening on (http:\S+)/.test(out) || child.exitCode !== null, 20_000, () => out);
  const url = /listening on (http:\S+)/.exec(out)?.[1];
  assert.ok(url, out);
  return { child, url: url.replace(/\/$/, ''), output: () => out, exited };
}

after(() => {
  for (const child of live) child.kill('SIGKILL');
});

describe('conveyor serve', () => {
  it('refuses a non-loopback host without a token: exit code 2 and one clear line', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0', '--store', 'sqlite:/nonexistent/never-opened.db'], {
      encoding: 'utf8', timeout: 20_000, env: { ...process.env, CONVEYOR_TOKEN: '' },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr.trim(), /^conveyor: error: refusing to serve on 0\.0\.0\.0 without a token.*--token/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const port = spawnSync(process.execPath, [CLI, 'serve', '--port', 'http'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(port.status, 2);
    assert.match(port.stderr, /--port must be an integer/);
  });

  for (const store of STORES) {
    describe(`on ${store.name}`, () => {
      let s: Scratch;
      before(async () => {
        await store.ready();
        s = scratch(store);
      });
      after(() => s.remove());

      it('serves the app\'s tasks, the API and /metrics at the URL it prints, and exits 0 on SIGTERM', async () => {
        const p = await startServe(['--app', CRASH_APP, '--store', s.storeUrl, '--token', 'tk'], { EFFECTS_FILE: s.effectsFile });
        assert.match(p.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(p.output(), /token required/);
        const auth = { authorization: 'Bearer tk' };
        assert.equal((await fetch(`${p.url}/api/queues`)).status, 401);
        const send = (task: string) => fetch(`${p.url}/api/tasks/${task}`, { method: 'POST', body: JSON.stringify({ args: [7] }), headers: { 'content-type': 'application/json', ...auth } });
        const sent = await send('quick');
        assert.equal(sent.status, 202);
        const { taskId } = (await sent.json()) as { taskId: string };
        assert.equal((await send('not.in.the.app')).status, 404, 'with --app, unknown task names are refused');

        const app = s.app();
        assert.equal((await app.result(taskId).info()).task, 'quick', 'the job is in the store the command was given');
        const queues = (await (await fetch(`${p.url}/api/queues`, { headers: auth })).json()) as { queues: { name: string; counts: { PENDING: number } }[] };
        assert.deepEqual(queues.queues.map((q) => [q.name, q.counts.PENDING]), [['default', 1]]);
        const metrics = await (await fetch(`${p.url}/metrics`, { headers: auth })).text();
        assert.match(metrics, /^conveyor_queue_jobs\{queue="default",state="PENDING"\} 1$/m);
        assert.match(metrics, /^process_cpu_user_seconds_total /m, 'the serve process adds its own process metrics');
        const page = await fetch(`${p.url}/?token=tk`);
        assert.equal(page.status, 200);
        assert.match(String(page.headers.get('content-type')), /text\/html/);

        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.output());
      });

      it('without --app it sends any task name', async () => {
        const p = await startServe(['--store', s.storeUrl]);
        const r = await fetch(`${p.url}/api/tasks/some.remote.task`, { method: 'POST', body: '{"args":[]}', headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 202);
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.output());
      });
    });
  }
});
