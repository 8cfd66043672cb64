/**
 * The PostgreSQL tutorial (README, "Tutorial: an order and its invoice, committed together"): an
 * order and its invoice job are committed in one transaction, and the invoice is written in the
 * transaction that records the job's success. Nothing is lost or done twice, whatever crashes.
 */
import pg from 'pg';
import { Conveyor } from 'conveyor';

/** Your app's database; the store's tables live beside yours, in the schema `conveyor`. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const app = new Conveyor({ store: process.env.CONVEYOR_STORE ?? `${DATABASE_URL}?schema=conveyor` });
export const db = new pg.Pool({ connectionString: DATABASE_URL });

export async function createTables(): Promise<void> {
  await db.query(`
    CREATE TABLE IF NOT EXISTS orders (id bigserial PRIMARY KEY, cart jsonb NOT NULL, total_cents int NOT NULL, invoiced boolean NOT NULL DEFAULT false);
    CREATE TABLE IF NOT EXISTS invoices (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), total_cents int NOT NULL)`);
}

/** The invoice row and the order's `invoiced` flag, committed together with the job's success. */
export const invoice = app.task({ name: 'orders.invoice' }, async (ctx, orderId: number) =>
  ctx.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: number }>(
      'INSERT INTO invoices (order_id, total_cents) SELECT id, total_cents FROM orders WHERE id = $1 RETURNING id', [orderId]);
    await tx.query('UPDATE orders SET invoiced = true WHERE id = $1', [orderId]);
    return { invoiceId: Number(rows[0]!.id) }; // the job's result
  }));

/** Place an order: the order row and its invoice job commit together, or neither exists. */
export async function placeOrder(cart: { sku: string; cents: number }[]): Promise<{ orderId: number; jobId: string }> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const total = cart.reduce((sum, item) => sum + item.cents, 0);
    const { rows } = await client.query<{ id: string }>('INSERT INTO orders (cart, total_cents) VALUES ($1, $2) RETURNING id', [JSON.stringify(cart), total]);
    const orderId = Number(rows[0]!.id);
    const job = await invoice.applyAsync([orderId], { tx: client }); // in this transaction
    await client.query('COMMIT'); // the job exists, and a worker sees it, from here on
    return { orderId, jobId: job.id };
  } catch (err) {
    await client.query('ROLLBACK'); // no order, and no job
    throw err;
  } finally {
    client.release();
  }
}
