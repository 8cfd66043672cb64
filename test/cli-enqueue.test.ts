/**
 * `conveyor enqueue --from file.jsonl` and `conveyor call --wait` on a task that reports
 * progress, run as real processes against a test's own SQLite file (build first: they run
 * dist/src/cli/main.js). The commands' stderr is a pipe here, so no bar is drawn: what scripts
 * see is checked; the bar itself needs a terminal.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { CLI, scratch, waitFor } from './crash/processes.js';

const PROGRESS_APP = fileURLToPath(new URL('fixtures/progress-app.ts', import.meta.url));
const s = scratch();
const app = s.app();

function conveyor(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, lines: string[]): string {
  const path = join(s.dir, name);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
  return path;
}

async function jobsOf(task: string) {
  return app.store.jobsList({ task, limit: 1000 });
}

after(() => s.remove());

describe('conveyor enqueue', () => {

  it('enqueues every line of a good file (arrays and {args, options} objects, blank lines skipped) and prints a summary', async () => {
    const good = file('good.jsonl', [
      '[1, 2]',
      '',
      '{"args": [3, 4], "options": {"priority": 5, "taskId": "job-3"}}',
      '[5, 6]',
      '{"args": [7, 8]}',
      '   ',
      '{"args": [0, 0], "options": {"taskId": "job-3"}}',
    ]);
    const r = conveyor('enqueue', 'add', '--from', good, '--store', s.storeUrl, '--batch', '2', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no bar when stderr is not a terminal');
    const summary = JSON.parse(r.stdout) as { task: string; sent: number; created: number; duplicates: number; seconds: number; jobsPerSecond: number };
    assert.deepEqual([summary.task, summary.sent, summary.created, summary.duplicates], ['add', 5, 4, 1]);
    assert.ok(summary.seconds >= 0 && summary.jobsPerSecond >= 0);

    const jobs = await jobsOf('add');
    assert.deepEqual(jobs.map((j) => JSON.parse(j.argsJson)), [[1, 2], [3, 4], [5, 6], [7, 8]]);
    const tagged = jobs.find((j) => j.id === 'job-3');
    assert.deepEqual([tagged?.priority, tagged?.queue, tagged?.state], [5, 'default', 'PENDING']);

    const text = conveyor('enqueue', 'add', '--from', file('more.jsonl', ['[9, 9]']), '--queue', 'bulk', '--store', s.storeUrl);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^sent 1 job\(s\) of add in \d+\.\d\d s \(\d+ jobs\/s\): 1 enqueued, 0 duplicate\(s\) suppressed\n$/);
    assert.deepEqual((await jobsOf('add')).filter((j) => j.queue === 'bulk').map((j) => j.argsJson), ['[9,9]']);
  });

  it('refuses a file with malformed lines: names each bad line, exits 2 and enqueues nothing', async () => {
    const bad = file('bad.jsonl', [
      '["ok"]',
      '["ok", 2]',
      '["not closed",',
      '["ok", 3]',
      '"just a string"',
      '{"args": ["ok"], "options": {"countdown": "soon"}}',
    ]);
    const before = (await jobsOf('send')).length;
    const r = conveyor('enqueue', 'send', '--from', bad, '--store', s.storeUrl);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^conveyor: error: .*bad\.jsonl: 3 malformed line\(s\); nothing was enqueued$/);
    assert.match(lines[1]!, /^ {2}line 3: not valid JSON/);
    assert.match(lines[2]!, /^ {2}line 5: must be a JSON array of args or an object .*got a string$/);
    assert.match(lines[3]!, /^ {2}line 6: options\.countdown must be a duration/);
    assert.equal(lines.length, 4);
    assert.equal((await jobsOf('send')).length, before, 'nothing enqueued');

    const json = conveyor('enqueue', 'send', '--from', bad, '--store', s.storeUrl, '--json');
    assert.equal(json.code, 2);
    const report = JSON.parse(json.stdout) as { enqueued: number; malformed: number; errors: { line: number }[] };
    assert.deepEqual([report.enqueued, report.malformed, report.errors.map((e) => e.line)], [0, 3, [3, 5, 6]]);
    assert.equal((await jobsOf('send')).length, before, 'nothing enqueued');
  });

  it('lists the first 20 bad lines, then a count; refuses a missing file and a bad --batch', () => {
    const many = file('many.jsonl', Array.from({ length: 25 }, (_, i) => (i === 0 ? '[1]' : '{')));
    const r = conveyor('enqueue', 'send', '--from', many, '--store', s.storeUrl);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1 + 20 + 1);
    assert.match(lines[1]!, /^ {2}line 2: /);
    assert.equal(lines.at(-1), '  ... and 4 more');

    const missing = conveyor('enqueue', 'send', '--from', join(s.dir, 'nope.jsonl'), '--store', s.storeUrl);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--from .*nope\.jsonl: no such file/);
    const batch = conveyor('enqueue', 'send', '--from', many, '--batch', '0', '--store', s.storeUrl);
    assert.equal(batch.code, 2);
    assert.match(batch.stderr, /--batch must be a positive integer/);
  });
});

describe('conveyor call --wait with a task that reports progress', () => {
  it('prints the id and the result (no bar off a terminal); status shows the last progress', async () => {
    const worker = spawn(process.execPath, [CLI, 'worker', '--app', PROGRESS_APP, '--store', s.storeUrl, '--queues', 'default', '--loglevel', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    worker.stdout.on('data', (c: Buffer) => (out += c.toString()));
    worker.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | string>((resolve) => worker.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      await waitFor('worker banner', () => out.includes('[tasks]'), 20_000, () => out);
      // spawnSync would block this process's loop, and with it nothing else: the worker is another process.
      const called = conveyor('call', 'progress.count', '--args', '[4, 30]', '--wait', '--timeout', '20s', '--store', s.storeUrl);
      assert.equal(called.code, 0, called.stderr + out);
      assert.equal(called.stderr, '');
      const [id, result] = called.stdout.trim().split('\n');
      assert.match(id!, /^[0-9a-f-]{36}$/);
      assert.equal(result, '4');

      const status = JSON.parse(conveyor('status', id!, '--json', '--store', s.storeUrl).stdout) as { state: string; progress: { fraction: number; info: unknown; at: string } };
      assert.equal(status.state, 'SUCCESS');
      assert.deepEqual([status.progress.fraction, status.progress.info], [1, { step: 4, of: 4 }]);
      assert.match(conveyor('status', id!, '--store', s.storeUrl).stdout, /^progress {3}100% \{"step":4,"of":4\} \(\d{4}-/m);

      const json = conveyor('call', 'progress.count', '--args', '[2, 10]', '--wait', '--json', '--timeout', '20s', '--store', s.storeUrl);
      assert.deepEqual((JSON.parse(json.stdout) as { state: string; result: number }).result, 2);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
  });
});
