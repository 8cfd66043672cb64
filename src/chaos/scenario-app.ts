/**
 * The app `conveyor chaos` runs in its worker processes (and sends from): payments that charge
 * once through `ctx.step` against the ledger's idempotent gateway while holding an executor from
 * a pool, a receipt (`link`) or a refund notice (`linkError`) for each, and a chord of parts
 * whose total is booked once. Every effect goes through the ledger (ledger.ts), whose file is
 * named by $CONVEYOR_CHAOS_LEDGER; the store is the worker's `--store`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Conveyor } from '../app.js';
import { PermanentError, StoreUnavailableError } from '../errors.js';
import type { RetryPolicy } from '../retry.js';
import { Ledger } from './ledger.js';

/** The pool of executors payments hold while they work. */
export const EXECUTORS = 'chaos-executors';
/**
 * How long a payment holds its executor unless it releases it first, for workers on a `leaseMs`
 * lease: longer than any payment's work (at most 400 ms), shorter than a freeze (2.5 leases), so
 * that a frozen holder outlives its hold and the pool's fencing is put to the test.
 */
export const executorTtlMs = (leaseMs: number): number => Math.max(1_000, Math.round(leaseMs * 1.5));
/** The workers' lease, as the run passes it to them. */
const workerLeaseMs = (): number => Number(process.env.CONVEYOR_CHAOS_LEASE_MS ?? 2_000);
/** The step each effect is made in (the checker compares the deliveries that asked for it with the one that recorded it). */
export const EFFECT_STEPS = { charge: 'charge', receipt: 'send', refund: 'send', total: 'book' } as const;
/** A payment whose amount ends in 7 is declined (it fails for good, and its refund notice goes out). */
export const declined = (amount: number): boolean => amount % 10 === 7;

/**
 * An attempt whose call to the store (a step, the pool) failed because the store was restarting
 * is tried again, as an app on a store that restarts must do: the PostgreSQL store answers
 * StoreUnavailableError at once while the server is down, Redis after `maxRetryWaitMs`. The next
 * delivery replays the steps already recorded, which the checker then sees.
 */
const STORE_OUTAGE: RetryPolicy = { on: [StoreUnavailableError], max: 30, backoff: { base: '200ms', max: '2s' } };

let ledger: Ledger | undefined;
const books = (): Ledger => (ledger ??= new Ledger(process.env.CONVEYOR_CHAOS_LEDGER ?? 'chaos-ledger.db'));

export const app = new Conveyor();

/** A receipt for a payment, sent once per payment (the gateway's key is the payment's id). */
export const receipt = app.task({ name: 'chaos.receipt', maxDeliveries: 1000, retry: STORE_OUTAGE }, async (ctx) => {
  await ctx.step(EFFECT_STEPS.receipt, () => books().receipt('receipt', ctx.parent!.id, ctx.id, ctx.fencingToken));
});

/** A refund notice for a declined payment, sent once per payment. */
export const refund = app.task({ name: 'chaos.refund', maxDeliveries: 1000, retry: STORE_OUTAGE }, async (ctx) => {
  await ctx.step(EFFECT_STEPS.refund, () => books().receipt('refund', ctx.parent!.id, ctx.id, ctx.fencingToken));
});

/**
 * A payment: declined at once when its amount ends in 7; else it charges the gateway under its
 * step key, then works `workMs` on an executor from the pool, and answers the charge.
 */
export const pay = app.task(
  { name: 'chaos.pay', maxDeliveries: 1000, retry: STORE_OUTAGE, link: receipt.s(), linkError: refund.s() },
  async (ctx, amount: number, workMs: number) => {
    if (declined(amount)) throw new PermanentError(`card declined for ${amount}`);
    const charge = await ctx.step(EFFECT_STEPS.charge, () => books().charge(ctx.stepKey(EFFECT_STEPS.charge), ctx.id, amount, ctx.fencingToken));
    const ttl = executorTtlMs(workerLeaseMs());
    const executor = await app.pool(EXECUTORS).acquire({ ttl, wait: '60s', holder: `${ctx.id}#${ctx.fencingToken}` });
    books().held({ pool: EXECUTORS, item: executor.item, token: executor.token, acquiredAt: executor.expiresAt - ttl, expiresAt: executor.expiresAt });
    try {
      await sleep(workMs, undefined, { signal: ctx.signal });
    } finally {
      books().releasing(EXECUTORS, executor.token);
      await executor.release();
    }
    return { amount, charge: charge.ref };
  },
);

/** A part of the chord: its number, after a little work. */
export const part = app.task({ name: 'chaos.part', maxDeliveries: 1000 }, async (ctx, n: number) => {
  await sleep(20, undefined, { signal: ctx.signal });
  return n;
});

/** The chord's callback: books the parts' total once. */
export const total = app.task({ name: 'chaos.total', maxDeliveries: 1000, retry: STORE_OUTAGE }, async (ctx, parts: number[]) => {
  const sum = parts.reduce((a, b) => a + b, 0);
  await ctx.step(EFFECT_STEPS.total, () => books().total(ctx.id, sum, ctx.fencingToken));
  return sum;
});
