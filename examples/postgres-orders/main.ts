/**
 * Run the tutorial: `npx tsx examples/postgres-orders/main.ts` (DATABASE_URL, default the local
 * postgres://postgres@127.0.0.1:5432/test). Places an order, runs a worker in this process until
 * the invoice is written, and prints what the tables hold.
 */
import { Worker } from 'conveyor';
import { app, createTables, db, placeOrder } from './tasks.js';

await createTables();
const { orderId, jobId } = await placeOrder([{ sku: 'book', cents: 1200 }, { sku: 'pen', cents: 300 }]);
console.log(`order ${orderId} placed; invoice job ${jobId}`);
const worker = new Worker(app, { concurrency: 2 });
await worker.start();
console.log('invoiced:', await app.result(jobId).get({ timeout: 10_000 }));
const { rows } = await db.query('SELECT o.id, o.invoiced, i.id AS invoice, i.total_cents FROM orders o JOIN invoices i ON i.order_id = o.id WHERE o.id = $1', [orderId]);
console.log(rows);
await worker.stop();
await app.close();
await db.end();
