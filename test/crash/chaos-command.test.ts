/**
 * `conveyor chaos` end to end, as a user runs it against a store: a short run on SQLite (kill -9,
 * SIGSTOP) and on a private Redis (kill -9, SIGSTOP, clock skew, Redis crashed and restarted),
 * each of which must inject its faults and find every invariant held (exit 0, and the verdict
 * as JSON). The checker's failing side is tested by hand in test/chaos-verdict.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { CLI } from './processes.js';

const run = promisify(execFile);

interface Report {
  ok: boolean;
  seed: number;
  faults: Record<string, number>;
  skipped: Record<string, string>;
  rows: { check: string; expected: string; observed: string; ok: boolean | null }[];
}

async function chaos(...args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'chaos', '--json', ...args], { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, report: JSON.parse(stdout) as Report, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    if (!e.stdout) throw new Error(`conveyor chaos did not answer: ${e.message}\n${e.stderr ?? ''}`);
    return { code: e.code ?? -1, report: JSON.parse(e.stdout) as Report, stderr: e.stderr ?? '' };
  }
}

function assertHeld(result: Awaited<ReturnType<typeof chaos>>, faults: string[]): void {
  const broken = result.report.rows.filter((r) => r.ok === false);
  assert.deepEqual(broken, [], `seed ${result.report.seed}: ${JSON.stringify(result.report.rows, null, 1)}\n${result.stderr}`);
  assert.equal(result.code, 0);
  assert.equal(result.report.ok, true);
  for (const f of faults) assert.ok(result.report.faults[f]! >= 1, `${f} was injected: ${JSON.stringify(result.report.faults)}`);
}

describe('conveyor chaos', () => {
  it('on SQLite: kill -9 and SIGSTOP, every invariant held', { timeout: 180_000 }, async (t) => {
    const result = await chaos('--store', 'sqlite', '--jobs', '40', '--workers', '3', '--duration', '10s', '--lease', '1s', '--faults', 'kill9,sigstop');
    t.diagnostic(`seed ${result.report.seed}, faults ${JSON.stringify(result.report.faults)}`);
    assertHeld(result, ['kill9', 'sigstop']);
  });

  it('on a private Redis: kill -9, SIGSTOP, clock skew and a Redis crash, every invariant held', { timeout: 180_000 }, async (t) => {
    const result = await chaos('--store', 'redis', '--jobs', '40', '--workers', '3', '--duration', '14s', '--lease', '1s', '--seed', '7');
    t.diagnostic(`seed ${result.report.seed}, faults ${JSON.stringify(result.report.faults)}`);
    assert.deepEqual(result.report.skipped, {});
    assertHeld(result, ['kill9', 'sigstop', 'clock-skew', 'store-restart']);
  });

  it('skips a fault that does not apply to the store, and says why', async () => {
    const sqlite = await chaos('--store', 'sqlite', '--jobs', '5', '--workers', '1', '--duration', '1s', '--faults', 'store-restart');
    assert.equal(sqlite.report.skipped['store-restart'], 'SQLite is embedded: there is no server to restart (kill9 covers a crash of its processes)');
    assert.equal(sqlite.report.faults['store-restart'], 0);
  });
});
