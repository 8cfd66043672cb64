/**
 * Transactional completion under kill -9 (PostgreSQL): a handler writes its effect row with
 * `ctx.transaction`, so the row and the job's success commit together. Workers — one running
 * handlers inline, one in child processes — are killed at random instants, each while one of
 * its jobs is in its transaction, and restarted; at the end every job's row exists exactly once, written by
 * the delivery whose token the job finished with.
 *
 * The control runs the same jobs with the effect committed on its own connection before the
 * outcome (what a handler without ctx.transaction does): the same kills then leave a job's effect
 * twice, which shows the kills land where the guarantee is needed.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { adminSql } from '../postgres/servers.js';
import { scratch, startWorker, STORES, waitFor, type Scratch, type WorkerProcess } from './processes.js';

const postgres = STORES.find((s) => s.name === 'postgres')!;
const WAVE = 40;
const KILLS = 4;

interface EffectsTable {
  name: string;
  rows(): Promise<{ job_id: string; token: number }[]>;
  end(): Promise<void>;
}

/** An effects table `name` in the store's own schema (dropped with it). */
async function effectsTable(s: Scratch, name: string): Promise<EffectsTable> {
  const schema = new URL(s.storeUrl).searchParams.get('schema')!;
  const table = `"${schema}".${name}`;
  const admin = adminSql();
  // Made before the store first opens: an app owns its tables beside the store's.
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await admin.query(`CREATE TABLE ${table} (job_id text NOT NULL, token int NOT NULL, pid int NOT NULL)`);
  return {
    name: table,
    rows: async () => (await admin.query<{ job_id: string; token: number }>(`SELECT job_id, token FROM ${table}`)).rows,
    end: () => admin.end(),
  };
}

/** Each job's rows, as the tokens of the deliveries that wrote them. */
async function rowsByJob(table: EffectsTable): Promise<Map<string, number[]>> {
  const byJob = new Map<string, number[]>();
  for (const r of await table.rows()) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r.token]);
  return byJob;
}

describe('kill -9 workers inside ctx.transaction (postgres)', () => {
  const s = scratch(postgres);
  before(() => postgres.ready());
  after(() => s.remove());

  /**
   * KILLS times: send a wave of WAVE jobs of `task` to an inline worker and a process-pool worker,
   * and at a random instant kill -9 the worker running some job whose effect is under way (for
   * `tx.plain`: already committed), then restart it. Then wait for every job to succeed.
   */
  async function runWithKills(task: 'tx.effect' | 'tx.plain', table: EffectsTable) {
    const app = s.app();
    const env = { EFFECTS_TABLE: table.name, EFFECTS_DB: s.storeUrl.replace(/\?.*$/, '') };
    const results: Awaited<ReturnType<typeof app.send>>[] = [];
    const kinds = [['--pool', 'inline'], ['--pool', 'processes', '--concurrency', '2']];
    const start = (i: number) => startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '4', '--lease', '1s', ...kinds[i]!], { env });
    const workers: WorkerProcess[] = [await start(0), await start(1)];
    const output = () => workers.map((w) => w.output()).join('\n');
    for (let kill = 0; kill < KILLS; kill++) {
      for (let i = 0; i < WAVE; i++) results.push(await app.send(task, [50 + Math.floor(Math.random() * 300)]));
      await sleep(Math.floor(Math.random() * 200));
      let victim = -1;
      await waitFor('a job with its effect under way', async () => {
        const running = await app.store.jobsList({ states: ['STARTED'], limit: 100 });
        const written = task === 'tx.plain' ? await rowsByJob(table) : undefined;
        const job = running.find((j) => !written || written.has(j.id));
        victim = workers.findIndex((w) => job?.worker?.includes(`:${w.child.pid}:`));
        return victim >= 0;
      }, 20_000, output);
      workers[victim]!.child.kill('SIGKILL');
      await workers[victim]!.exited;
      workers[victim] = await start(victim);
    }
    await waitFor('every job to succeed', async () => (await Promise.all(results.map((r) => r.state()))).every((st) => st === 'SUCCESS'), 60_000, output);
    for (const w of workers) {
      w.child.kill('SIGTERM');
      await w.exited;
    }
    const tokens = new Map<string, number>();
    for (const r of results) tokens.set(r.id, (await r.info()).fencingToken);
    return { ids: results.map((r) => r.id), tokens };
  }

  it('every job\'s effect row exists exactly once, written by the delivery it finished with', { timeout: 180_000 }, async () => {
    const table = await effectsTable(s, 'effects_tx');
    try {
      const { ids, tokens } = await runWithKills('tx.effect', table);
      assert.ok([...tokens.values()].some((t) => t > 1), 'some job ran again after its transaction was cut');
      const byJob = await rowsByJob(table);
      assert.deepEqual([...byJob.keys()].sort(), [...ids].sort(), 'a row for every job');
      for (const [id, written] of byJob) assert.deepEqual(written, [tokens.get(id)], `job ${id}: one row, from the delivery it finished with`);
    } finally {
      await table.end();
    }
  });

  it('control: the same kills with the effect committed before the outcome leave some effect twice', { timeout: 180_000 }, async () => {
    const table = await effectsTable(s, 'effects_plain');
    try {
      const { ids } = await runWithKills('tx.plain', table);
      const byJob = await rowsByJob(table);
      assert.deepEqual([...byJob.keys()].sort(), [...ids].sort());
      const twice = [...byJob.values()].filter((tokens) => tokens.length > 1).length;
      assert.ok(twice >= 1, 'a worker killed after a committed effect makes the next delivery repeat it');
    } finally {
      await table.end();
    }
  });
});
