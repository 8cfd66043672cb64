/**
 * Deterministic crash recovery: build the broken state by hand (a running job whose worker is
 * gone and whose lease has passed), run the worker once, and check what it did.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { Conveyor, SqliteStore, Worker } from '../../src/index.js';

describe('recovery of a dead worker\'s job', () => {
  let dir: string;
  let file: string;
  const clock = { now: 1_700_000_000_000 };
  let app: Conveyor;
  let ran: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-recovery-'));
    file = join(dir, 'conveyor.db');
    app = new Conveyor({ store: new SqliteStore(file, { clock: () => clock.now }), clock: () => clock.now, maxDeliveries: 3 });
    ran = [];
    app.task({ name: 'work' }, async (ctx, n: number) => {
      ran.push(`${ctx.id}@${ctx.fencingToken}`);
      return n * 2;
    });
  });
  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Mark a job as held by a worker that died, by hand, as a crash would leave it. */
  function crashWhileRunning(id: string, deliveries: number, leaseExpiresAt: number): void {
    const db = new Database(file);
    db.prepare(`UPDATE conveyor_jobs SET state = 'STARTED', token = token + 1, deliveries = ?, worker = 'dead-worker', started_at = ?, lease_expires_at = ? WHERE id = ?`)
      .run(deliveries, clock.now - 60_000, leaseExpiresAt, id);
    db.close();
  }

  const worker = () => new Worker(app, { lease: '30s', logger: pino({ level: 'silent' }) });

  it('a lapsed lease returns the job to its queue and the next pass runs it with a new token', async () => {
    const r = await app.send('work', [21]);
    crashWhileRunning(r.id, 1, clock.now - 1);
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await r.get({ timeout: 1000 }), 42);
    const info = await r.info();
    assert.equal(info.fencingToken, 2);
    assert.equal(info.deliveries, 2);
    assert.deepEqual(ran, [`${r.id}@2`]);
  });

  it('a lease that has not lapsed is left alone: the job is not run twice', async () => {
    const r = await app.send('work', [1]);
    crashWhileRunning(r.id, 1, clock.now + 10_000);
    assert.equal(await worker().runOnce(), 0);
    assert.equal(await r.state(), 'STARTED');
    clock.now += 10_001;
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await r.state(), 'SUCCESS');
    assert.equal(ran.length, 1);
  });

  it('a job whose deliveries ran out fails with WorkerLostError instead of running again', async () => {
    const r = await app.send('work', [1]);
    crashWhileRunning(r.id, 3, clock.now - 1);
    assert.equal(await worker().runOnce(), 0);
    const info = await r.info();
    assert.equal(info.state, 'FAILURE');
    assert.equal(info.error?.type, 'WorkerLostError');
    assert.deepEqual(ran, []);
    // The dead-letter retry gives it a fresh budget.
    assert.equal(await app.retry(r.id), 'retried');
    assert.equal(await worker().runOnce(), 1);
    assert.equal(await r.state(), 'SUCCESS');
  });
});
