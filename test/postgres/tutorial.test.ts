/**
 * The README's PostgreSQL tutorial, run (examples/postgres-orders): an order and its job commit
 * together; a rolled-back order leaves no job; the worker writes the invoice once, with the job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { adminSql, assertPostgresReachable, removeSchema, SHARED_POSTGRES_URL, uniqueSchema } from './servers.js';

// The example's tables in a schema of this test's own (search_path), the store's in another.
const tables = uniqueSchema();
const store = uniqueSchema();
const searchPath = `options=${encodeURIComponent(`-c search_path=${tables}`)}`;
process.env.DATABASE_URL = `${SHARED_POSTGRES_URL}?${searchPath}`;
// The handler's transaction is on the store's connections: the same search_path there.
process.env.CONVEYOR_STORE = `${SHARED_POSTGRES_URL}?schema=${store}&${searchPath}`;
const admin = adminSql();
await admin.query(`CREATE SCHEMA "${tables}"`);
const { app, createTables, db, invoice, placeOrder } = await import('../../examples/postgres-orders/tasks.js');
const { Worker } = await import('conveyor');

describe('examples/postgres-orders', () => {
  before(() => assertPostgresReachable());
  after(async () => {
    await app.close();
    await db.end();
    await removeSchema(tables);
    await removeSchema(store);
    await admin.end();
  });

  it('commits the order with its job; the worker writes its invoice once, with the job\'s success', async () => {
    await createTables();
    const { orderId, jobId } = await placeOrder([{ sku: 'book', cents: 1200 }, { sku: 'pen', cents: 300 }]);

    // An order rolled back after its send: neither the order nor its job exists.
    const client = await db.connect();
    await client.query('BEGIN');
    const { rows: [ghost] } = await client.query<{ id: string }>(`INSERT INTO orders (cart, total_cents) VALUES ('[]', 0) RETURNING id`);
    const lost = await invoice.applyAsync([Number(ghost!.id)], { tx: client });
    await client.query('ROLLBACK');
    client.release();
    assert.equal(await app.store.jobGet(lost.id), null);

    const worker = new Worker(app, { logger: pino({ level: 'silent' }) });
    assert.equal(await worker.runOnce(), 1, 'only the committed order\'s job');
    const result = await app.result(jobId).get({ timeout: 5000 });
    const { rows } = await db.query<{ id: string; invoiced: boolean; total_cents: number }>('SELECT o.invoiced, i.id, i.total_cents FROM orders o JOIN invoices i ON i.order_id = o.id');
    assert.deepEqual(rows.map((r) => [r.invoiced, Number(r.id), r.total_cents]), [[true, (result as { invoiceId: number }).invoiceId, 1500]]);
    assert.equal((await db.query('SELECT 1 FROM orders')).rowCount, 1, `order ${orderId} alone`);
  });
});
