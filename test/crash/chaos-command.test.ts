/**
 * `conveyor chaos` end to end, as a user runs it against a store: a short run on SQLite (kill -9,
 * SIGSTOP), on a private Redis (kill -9, SIGSTOP, clock skew, Redis crashed and restarted), on a
 * postgres:// URL (kill -9, SIGSTOP, in a schema of the run's own that is gone afterwards) and on
 * a private PostgreSQL (every fault, the server crashed and restarted), each of which must inject
 * its faults and find every invariant held (exit 0, and the verdict as JSON). The checker's
 * failing side is tested by hand in test/chaos-verdict.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { adminSql, dropSchema, SHARED_POSTGRES_URL, uniqueSchema } from '../postgres/servers.js';
import { CLI, waitFor } from './processes.js';

const run = promisify(execFile);

interface Report {
  store: string;
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

  it('on a postgres:// URL: kill -9 and SIGSTOP in a schema of its own, dropped at the end, nothing else touched', { timeout: 180_000 }, async (t) => {
    const sql = adminSql();
    // The user's own schema, named in the URL: the run must use one of its own and leave this one be.
    const users = uniqueSchema();
    const chaosSchemas = async () => (await sql.query<{ name: string }>(`SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'conveyor\\_chaos\\_%'`)).rows.map((r) => r.name);
    try {
      await sql.query(`CREATE SCHEMA "${users}"; CREATE TABLE "${users}".orders (id int); INSERT INTO "${users}".orders VALUES (1)`);
      const before = new Set(await chaosSchemas());
      const running = chaos('--store', `${SHARED_POSTGRES_URL}?schema=${users}&migrate=false`, '--jobs', '40', '--workers', '3', '--duration', '10s', '--lease', '1s',
        '--faults', 'kill9,sigstop,store-restart');
      const seen = new Set<string>();
      let answered = false;
      const over = () => void (answered = true);
      running.then(over, over);
      await waitFor('a schema of the run to appear', async () => {
        for (const name of await chaosSchemas()) if (!before.has(name)) seen.add(name);
        return seen.size > 0 || answered;
      }, 60_000);
      const result = await running;
      t.diagnostic(`seed ${result.report.seed}, faults ${JSON.stringify(result.report.faults)}, ${result.report.store}`);
      assertHeld(result, ['kill9', 'sigstop']);
      assert.equal(result.report.skipped['store-restart'], 'chaos restarts only a store it started itself: pass --store postgres');

      const schema = /^postgres:\/\/[^@\s]+ in the schema (conveyor_chaos_[0-9a-f]{8})$/.exec(result.report.store)?.[1];
      assert.ok(schema !== undefined && seen.has(schema), `the run said it used ${result.report.store}; seen during the run: ${[...seen].join(', ')}`);
      const left = await sql.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
      assert.equal(left.rowCount, 0, `the run's schema ${schema} is dropped`);
      const tables = await sql.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1', [users]);
      assert.deepEqual(tables.rows.map((r) => r.name), ['orders'], "the user's schema has its table and nothing else");
      assert.deepEqual((await sql.query(`SELECT id FROM "${users}".orders`)).rows, [{ id: 1 }]);
    } finally {
      await dropSchema(sql, users);
      await sql.end();
    }
  });

  it('on a private PostgreSQL: kill -9, SIGSTOP, clock skew and a PostgreSQL crash, every invariant held', { timeout: 180_000 }, async (t) => {
    const result = await chaos('--store', 'postgres', '--jobs', '40', '--workers', '3', '--duration', '10s', '--lease', '1s', '--seed', '7');
    t.diagnostic(`seed ${result.report.seed}, faults ${JSON.stringify(result.report.faults)}, ${result.report.store}`);
    assert.match(result.report.store, /^a private PostgreSQL on port \d+ \(fsync on\)$/);
    assert.deepEqual(result.report.skipped, {});
    assertHeld(result, ['kill9', 'sigstop', 'clock-skew', 'store-restart']);
  });

  it('skips a fault that does not apply to the store, and says why', async () => {
    const sqlite = await chaos('--store', 'sqlite', '--jobs', '5', '--workers', '1', '--duration', '1s', '--faults', 'store-restart');
    assert.equal(sqlite.report.skipped['store-restart'], 'SQLite is embedded: there is no server to restart (kill9 covers a crash of its processes)');
    assert.equal(sqlite.report.faults['store-restart'], 0);
  });
});
