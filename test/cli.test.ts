/** The `conveyor` command, run as a real process against a test's own SQLite file. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { Conveyor, COUNTERS } from '../src/index.js';
import { CLI, CRASH_APP, scratch, startWorker, waitFor } from './crash/processes.js';

const s = scratch();

function conveyor(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, EFFECTS_FILE: s.effectsFile }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A refused command: non-zero exit, nothing on stdout, one clear line on stderr. */
function assertRefused(r: ReturnType<typeof conveyor>, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

describe('conveyor CLI', () => {
  after(() => rmSync(s.dir, { recursive: true, force: true }));

  it('refuses unparsable --args, a non-array, an unknown store scheme and a missing app module, with one line each', () => {
    assertRefused(conveyor('call', 'quick', '--args', '[1,', '--store', s.storeUrl), /^conveyor: error: --args is not valid JSON .*pass a JSON array/);
    assertRefused(conveyor('call', 'quick', '--args', '{"a":1}', '--store', s.storeUrl), /--args must be a JSON array/);
    assertRefused(conveyor('status', 'x', '--store', 'mysql://localhost/db'), /unknown scheme "mysql:".*use sqlite:<path>/);
    assertRefused(conveyor('worker', '--app', './no/such/app.ts', '--store', s.storeUrl), /--app \.\/no\/such\/app\.ts: no such file/);
    assertRefused(conveyor('inspect', 'everything', '--store', s.storeUrl), /unknown view "everything"/);
    assertRefused(conveyor('call', 'quick', '--countdown', 'soon', '--store', s.storeUrl), /--countdown must be a duration/);
    const unknownCommand = conveyor('frobnicate');
    assert.notEqual(unknownCommand.code, 0);
  });

  it('call --wait prints the id and the result; status, inspect, revoke, retry and purge see the same store', async () => {
    const worker = await startWorker(s.storeUrl, s.effectsFile);
    const called = conveyor('call', 'quick', '--args', '[41]', '--wait', '--timeout', '20s', '--store', s.storeUrl);
    assert.equal(called.code, 0, called.stderr);
    const [id, result] = called.stdout.trim().split('\n');
    assert.match(id!, /^[0-9a-f-]{36}$/);
    assert.equal(result, '41');

    const status = JSON.parse(conveyor('status', id!, '--json', '--store', s.storeUrl).stdout) as { state: string; result: unknown; attempts: number };
    assert.deepEqual([status.state, status.result, status.attempts], ['SUCCESS', 41, 1]);
    assert.match(conveyor('status', id!, '--store', s.storeUrl).stdout, /state\s+SUCCESS/);

    // An unknown task fails that job with NotRegisteredError; the worker keeps running.
    const unknown = conveyor('call', 'no.such.task', '--wait', '--json', '--timeout', '20s', '--store', s.storeUrl);
    assert.equal(unknown.code, 1);
    assert.equal((JSON.parse(unknown.stdout) as { error: { type: string } }).error.type, 'NotRegisteredError');
    const after = conveyor('call', 'quick', '--args', '[2]', '--wait', '--json', '--timeout', '20s', '--store', s.storeUrl);
    assert.equal((JSON.parse(after.stdout) as { result: number }).result, 2);

    const failed = JSON.parse(conveyor('inspect', 'failed', '--json', '--store', s.storeUrl).stdout) as { task: string }[];
    assert.deepEqual(failed.map((j) => j.task), ['no.such.task']);
    const stats = JSON.parse(conveyor('inspect', 'stats', '--json', '--store', s.storeUrl).stdout) as { queue: string; counts: Record<string, number> }[];
    assert.deepEqual(stats.map((q) => [q.queue, q.counts.SUCCESS, q.counts.FAILURE]), [['default', 2, 1]]);
    const registered = JSON.parse(conveyor('inspect', 'registered', '--json', '--app', CRASH_APP, '--store', s.storeUrl).stdout) as { name: string }[];
    assert.ok(['quick', 'slow'].every((name) => registered.some((t) => t.name === name)), JSON.stringify(registered));
    const counters = JSON.parse(conveyor('inspect', 'counters', '--json', '--store', s.storeUrl).stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(counters), [...COUNTERS]);

    const later = conveyor('call', 'quick', '--args', '[3]', '--countdown', '1h', '--store', s.storeUrl).stdout.trim();
    const scheduled = JSON.parse(conveyor('inspect', 'scheduled', '--json', '--store', s.storeUrl).stdout) as { id: string }[];
    assert.deepEqual(scheduled.map((j) => j.id), [later]);
    assert.equal(conveyor('revoke', later, '--store', s.storeUrl).code, 0);
    assert.equal(conveyor('revoke', later, '--store', s.storeUrl).code, 1, 'already final');
    assert.equal(conveyor('retry', later, '--store', s.storeUrl).code, 0, 'a revoked job can be sent again');

    const app = new Conveyor({ store: s.storeUrl });
    await waitFor('the retried job to run', async () => (await app.result(later).state()) === 'SUCCESS', 20_000, worker.output);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);

    for (let i = 0; i < 3; i++) conveyor('call', 'quick', '--args', `[${i}]`, '--queue', 'spare', '--store', s.storeUrl);
    const purged = conveyor('purge', 'spare', '--store', s.storeUrl);
    assert.equal(purged.stdout.trim(), 'purged 3 waiting job(s) from queue spare');
    assert.equal(conveyor('retry', 'no-such-id', '--store', s.storeUrl).code, 1);
    await app.close();
  });
});
