/**
 * The PostgreSQL store's smaller parts, each inside the caller's transaction: resource pools,
 * `ctx.step` records, the worker registry and schedule ticks. Same rules as the SQLite engine's
 * (pools.ts, steps.ts, workers.ts, schedule-ticks.ts there); the pool's row lock orders its
 * acquires and frees, as SQLite's single writer does.
 */
import { workerRecord } from '../policy.js';
import type { PoolItem, PoolLease, StepOutcome, StepRecord, WorkerInfo } from '../store.js';
import { count, run, type Tables, type Tx } from './tables.js';

// ---- pools ----

/** The pool's next counter value (creating the pool), taking its row lock for the transaction. */
async function next(tx: Tx, t: Tables, pool: string): Promise<number> {
  const [row] = await run<{ seq: number }>(tx, `INSERT INTO ${t.pools} AS p (name, seq) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET seq = p.seq + 1 RETURNING seq`, [pool]);
  return row!.seq;
}

/**
 * Free an item held with `token` (dropping it if it was removed meanwhile); false if not held so.
 * With `lapsedAt` (a reclaim), only if its lease is still lapsed then: a renewal that committed
 * since the reclaim read the item (renew takes no pool lock) keeps it held.
 */
async function free(tx: Tx, t: Tables, pool: string, item: string, token: number, lapsedAt?: number): Promise<boolean> {
  const freed = await next(tx, t, pool);
  const [row] = lapsedAt === undefined
    ? await run<{ removed: boolean }>(tx,
      `UPDATE ${t.items} SET holder = NULL, token = NULL, expires_at = NULL, freed = $4 WHERE pool = $1 AND item = $2 AND token = $3 AND holder IS NOT NULL RETURNING removed`,
      [pool, item, token, freed])
    : await run<{ removed: boolean }>(tx,
      `UPDATE ${t.items} SET holder = NULL, token = NULL, expires_at = NULL, freed = $4 WHERE pool = $1 AND item = $2 AND token = $3 AND holder IS NOT NULL AND expires_at < $5 RETURNING removed`,
      [pool, item, token, freed, lapsedAt]);
  if (!row) return false;
  if (row.removed) await run(tx, `DELETE FROM ${t.items} WHERE pool = $1 AND item = $2 AND holder IS NULL AND removed`, [pool, item]);
  return true;
}

export async function poolAdd(tx: Tx, t: Tables, pool: string, items: readonly string[]): Promise<number> {
  let added = 0;
  for (const item of new Set(items)) {
    const freed = await next(tx, t, pool);
    const rows = await run(tx, `INSERT INTO ${t.items} AS i (pool, item, freed) VALUES ($1, $2, $3) ON CONFLICT (pool, item) DO UPDATE SET removed = false WHERE i.removed RETURNING 1`, [pool, item, freed]);
    added += rows.length;
  }
  return added;
}

export async function poolRemove(tx: Tx, t: Tables, pool: string, items: readonly string[]): Promise<number> {
  await next(tx, t, pool);
  let removed = 0;
  for (const item of new Set(items)) {
    const gone = await run(tx, `DELETE FROM ${t.items} WHERE pool = $1 AND item = $2 AND holder IS NULL RETURNING 1`, [pool, item]);
    const marked = gone.length ? gone : await run(tx, `UPDATE ${t.items} SET removed = true WHERE pool = $1 AND item = $2 AND holder IS NOT NULL AND NOT removed RETURNING 1`, [pool, item]);
    removed += marked.length;
  }
  return removed;
}

/** Return lapsed items (of one pool, or all); answers how many. */
export async function poolReclaim(tx: Tx, t: Tables, now: number, only?: string): Promise<number> {
  const lapsed = only === undefined
    ? await run<{ pool: string; item: string; token: number }>(tx, `SELECT pool, item, token FROM ${t.items} WHERE holder IS NOT NULL AND expires_at < $1 ORDER BY pool, item`, [now])
    : await run<{ pool: string; item: string; token: number }>(tx, `SELECT pool, item, token FROM ${t.items} WHERE pool = $2 AND holder IS NOT NULL AND expires_at < $1 ORDER BY item`, [now, only]);
  let reclaimed = 0;
  for (const { pool, item, token } of lapsed) if (await free(tx, t, pool, item, token, now)) reclaimed++;
  await count(tx, t, 'pool_items_reclaimed_total', reclaimed);
  return reclaimed;
}

/**
 * `clock` is read once the pool's lock is held: an acquire that waited behind another (a holder
 * frozen mid-transaction) must not date its lease, or decide what lapsed, by the time it began.
 */
export async function poolAcquire(tx: Tx, t: Tables, params: { pool: string; holder: string; ttlMs: number }, clock: (tx: Tx) => Promise<number>): Promise<PoolLease | null> {
  await run(tx, `SELECT 1 FROM ${t.pools} WHERE name = $1 FOR UPDATE`, [params.pool]);
  const now = await clock(tx);
  await poolReclaim(tx, t, now, params.pool);
  const [first] = await run<{ item: string }>(tx, `SELECT item FROM ${t.items} WHERE pool = $1 AND holder IS NULL ORDER BY freed LIMIT 1`, [params.pool]);
  if (!first) return null;
  const token = await next(tx, t, params.pool);
  const expiresAt = now + params.ttlMs;
  await run(tx, `UPDATE ${t.items} SET holder = $3, token = $4, expires_at = $5 WHERE pool = $1 AND item = $2 AND holder IS NULL`, [params.pool, first.item, params.holder, token, expiresAt]);
  return { pool: params.pool, item: first.item, token, expiresAt };
}

export async function poolRenew(tx: Tx, t: Tables, params: { pool: string; item: string; token: number; ttlMs: number }, now: number): Promise<number | null> {
  const expiresAt = now + params.ttlMs;
  const rows = await run(tx, `UPDATE ${t.items} SET expires_at = $4 WHERE pool = $1 AND item = $2 AND token = $3 AND holder IS NOT NULL RETURNING 1`, [params.pool, params.item, params.token, expiresAt]);
  return rows.length > 0 ? expiresAt : null;
}

export async function poolRelease(tx: Tx, t: Tables, params: { pool: string; item: string; token: number }): Promise<'released' | 'not-held'> {
  if (await free(tx, t, params.pool, params.item, params.token)) return 'released';
  await count(tx, t, 'double_release_total');
  return 'not-held';
}

export async function poolItems(tx: Tx, t: Tables, pool: string): Promise<PoolItem[]> {
  const rows = await run<{ item: string; holder: string | null; token: number | null; expires_at: number | null }>(tx,
    `SELECT item, holder, token, expires_at FROM ${t.items} WHERE pool = $1 ORDER BY item COLLATE "C"`, [pool]);
  return rows.map((r) => ({ item: r.item, holder: r.holder, token: r.token, expiresAt: r.expires_at }));
}

// ---- steps ----

/** Whether a token holds a job's lease, else why not: the store's fence (stale ones counted). */
export type LeaseCheck = (tx: Tx, id: string, token: number) => Promise<{ ok: true } | Extract<StepOutcome, { ok: false }>>;

export async function stepGet(tx: Tx, t: Tables, lease: LeaseCheck, params: { id: string; token: number; name: string }): Promise<StepOutcome> {
  const held = await lease(tx, params.id, params.token);
  if (!held.ok) return held;
  const [row] = await run<{ result: string }>(tx, `SELECT result FROM ${t.steps} WHERE job_id = $1 AND name = $2`, [params.id, params.name]);
  if (row) await count(tx, t, 'steps_replayed_total');
  return { ok: true, resultJson: row?.result ?? null };
}

export async function stepPut(tx: Tx, t: Tables, lease: LeaseCheck, params: { id: string; token: number; name: string; resultJson: string }, now: number): Promise<StepOutcome> {
  const held = await lease(tx, params.id, params.token);
  if (!held.ok) return held;
  await run(tx, `INSERT INTO ${t.steps} (job_id, name, result, token, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id, name) DO NOTHING`,
    [params.id, params.name, params.resultJson, params.token, now]);
  const [row] = await run<{ result: string }>(tx, `SELECT result FROM ${t.steps} WHERE job_id = $1 AND name = $2`, [params.id, params.name]);
  return { ok: true, resultJson: row!.result };
}

export async function stepsList(tx: Tx, t: Tables, id: string): Promise<StepRecord[]> {
  const rows = await run<{ name: string; result: string; token: number; recorded_at: number }>(tx,
    `SELECT name, result, token, recorded_at FROM ${t.steps} WHERE job_id = $1 ORDER BY seq`, [id]);
  return rows.map((r) => ({ name: r.name, resultJson: r.result, token: r.token, recordedAt: r.recorded_at }));
}

// ---- workers ----

export async function workersHeartbeat(tx: Tx, t: Tables, params: { worker: Omit<WorkerInfo, 'lastSeenAt'>; ttlMs: number }, now: number): Promise<void> {
  await run(tx, `DELETE FROM ${t.workers} WHERE expires_at < $1`, [now]);
  const info = workerRecord(params.worker, now);
  await run(tx, `INSERT INTO ${t.workers} (id, info, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at`,
    [info.id, JSON.stringify(info), now + params.ttlMs]);
}

export async function workersList(tx: Tx, t: Tables, now: number): Promise<WorkerInfo[]> {
  const rows = await run<{ info: string }>(tx, `SELECT info FROM ${t.workers} WHERE expires_at >= $1 ORDER BY id COLLATE "C"`, [now]);
  return rows.map((r) => JSON.parse(r.info) as WorkerInfo);
}

export async function workerRemove(tx: Tx, t: Tables, id: string): Promise<void> {
  await run(tx, `DELETE FROM ${t.workers} WHERE id = $1`, [id]);
}

// ---- schedule ticks ----

export async function scheduleTickGet(tx: Tx, t: Tables, schedule: string): Promise<number | null> {
  const [row] = await run<{ tick: number }>(tx, `SELECT tick FROM ${t.ticks} WHERE schedule = $1`, [schedule]);
  return row?.tick ?? null;
}

/** Set the schedule's tick to `tick` if later than the recorded one; answers whether it did. */
export async function scheduleTickAdvance(tx: Tx, t: Tables, params: { schedule: string; tick: number }): Promise<boolean> {
  const rows = await run(tx, `INSERT INTO ${t.ticks} AS s (schedule, tick) VALUES ($1, $2) ON CONFLICT (schedule) DO UPDATE SET tick = excluded.tick WHERE excluded.tick > s.tick RETURNING 1`,
    [params.schedule, params.tick]);
  return rows.length > 0;
}
