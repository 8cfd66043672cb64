/**
 * `ctx.transaction` through a real worker: on PostgreSQL the handler's writes and the job's
 * success commit together; elsewhere the job fails with an error that says what it needs.
 * (Kill -9 inside the transaction, inline and in a process pool: test/crash/transactional-completion.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Conveyor, InvalidArgumentError, type TaskContext } from '../../src/index.js';
import { adminSql, removeSchema, uniqueSchema } from '../postgres/servers.js';
import { describeEngines, drain, recordingLogger, type World } from './engines.js';

const LIMIT = { timeout: 20_000 };

/** A schema of this file's own for the handlers' effects tables. */
const admin = adminSql();
const effectsSchema = uniqueSchema();
let tables = 0;
after(async () => {
  await removeSchema(effectsSchema);
  await admin.end();
});

async function effectsTable(): Promise<{ name: string; ids(): Promise<string[]> }> {
  const name = `"${effectsSchema}".effects_${++tables}`;
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${effectsSchema}"`);
  await admin.query(`CREATE TABLE ${name} (job_id text NOT NULL)`);
  return { name, ids: async () => (await admin.query<{ job_id: string }>(`SELECT job_id FROM ${name} ORDER BY job_id`)).rows.map((r) => r.job_id) };
}

const insert = (ctx: TaskContext, table: string) => ctx.transaction(async (tx) => {
  await tx.query(`INSERT INTO ${table} (job_id) VALUES ($1)`, [ctx.id]);
  return { invoiced: ctx.id };
});

describeEngines('ctx.transaction', (world, engine) => {
  if (engine.name !== 'postgres') {
    it('fails the job with an error that names the store and says what to use instead', LIMIT, async () => {
      const w = world();
      const t = w.app.task({ name: 'invoice' }, async (ctx) => ctx.transaction(async () => 1));
      const r = await t.delay();
      await drain(w, w.worker());
      const info = await r.info();
      assert.equal(info.state, 'FAILURE');
      assert.deepEqual([info.error?.type, info.error?.message], ['InvalidArgumentError', `ctx.transaction commits your database writes together with the job's success, so it needs the PostgreSQL store; this worker's store is ${w.store.description} (use ctx.step with an idempotency key instead)`]);
    });
    return;
  }

  async function run(w: World, handler: (ctx: TaskContext, table: string) => Promise<unknown>, options: { retries?: number } = {}) {
    const table = await effectsTable();
    const t = w.app.task({ name: 'invoice', ...(options.retries === undefined ? {} : { retry: { max: options.retries, backoff: { base: '1s' } } }) }, handler);
    const done = w.app.task({ name: 'done' }, async (_ctx, result: unknown) => result);
    const r = await t.applyAsync([table.name], { link: done.s() });
    const worker = w.worker();
    await drain(w, worker);
    return { r, table, worker };
  }

  it("commits the handler's row with the job's success: its value is the result, the link fires once", LIMIT, async () => {
    const w = world();
    const { r, table, worker } = await run(w, insert);
    assert.deepEqual(await r.get({ timeout: 1000 }), { invoiced: r.id });
    assert.deepEqual(await table.ids(), [r.id]);
    const [link] = await w.store.jobsList({ task: 'done', limit: 10 });
    assert.deepEqual([link?.state, link?.resultJson], ['SUCCESS', JSON.stringify({ invoiced: r.id })]);
    assert.deepEqual(worker.counts, { succeeded: 2, failed: 0, retried: 0, released: 0, lost: 0 });
  });

  it('a transaction that throws rolls back its row; the retry writes it once', LIMIT, async () => {
    const w = world();
    const { r, table } = await run(w, async (ctx, name) => ctx.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${name} (job_id) VALUES ($1)`, [ctx.id]);
      if (ctx.attempt === 1) throw new Error('the invoice service is down');
      return ctx.attempt;
    }), { retries: 1 });
    assert.equal(await r.get({ timeout: 1000 }), 2);
    assert.deepEqual(await table.ids(), [r.id]);
  });

  it('a handler that throws after its transaction committed stays SUCCESS, with a warning', LIMIT, async () => {
    const { logger, lines } = recordingLogger();
    const w = world();
    const table = await effectsTable();
    const t = w.app.task({ name: 'invoice' }, async (ctx) => {
      await insert(ctx, table.name);
      throw new Error('after the commit');
    });
    const r = await t.delay();
    const worker = w.worker({ logger });
    await drain(w, worker);
    assert.deepEqual(await r.get({ timeout: 1000 }), { invoiced: r.id });
    assert.deepEqual(await table.ids(), [r.id]);
    assert.ok(lines.some((l) => l.msg === `Task invoice[${r.id}] threw after its transaction committed the job's success; it stays SUCCESS (make ctx.transaction the handler's last step)`));
    assert.equal(worker.counts.succeeded, 1);
  });

  it('a second ctx.transaction in one delivery is refused; the first one completed the job', LIMIT, async () => {
    const w = world();
    let second: unknown;
    const { r, table } = await run(w, async (ctx, name) => {
      const value = await insert(ctx, name);
      second = await ctx.transaction(async () => 'again').catch((err: unknown) => err);
      return value;
    });
    assert.deepEqual(await r.get({ timeout: 1000 }), { invoiced: r.id });
    assert.deepEqual(await table.ids(), [r.id]);
    assert.ok(second instanceof InvalidArgumentError);
    assert.equal(second.message, `ctx.transaction used twice in job ${r.id}: the first one completes the job, so put all its writes in one`);
  });
});

it('task.run refuses ctx.transaction: there is no job to complete', async () => {
  const app = new Conveyor({ store: 'sqlite::memory:' });
  const t = app.task({ name: 'invoice' }, async (ctx) => ctx.transaction(async () => 1));
  await assert.rejects(t.run(), (err: unknown) => err instanceof InvalidArgumentError && /runs in a worker only; task\.run has no job to complete/.test(err.message));
  await app.close();
});
