/**
 * Resource pools in SQLite: one row per item, held or free. Each acquire and each free takes the
 * pool's next counter value: as a token it fences the holder, as `freed` it orders free items so
 * the one free longest goes first. Every function runs inside the store's write transaction.
 */
import type { CounterName, PoolItem, PoolLease } from '../store.js';
import type { Statements } from './statements.js';

type Count = (name: CounterName, n?: number) => void;

function next(sql: Statements, pool: string): number {
  return (sql.poolNext.get({ pool }) as { seq: number }).seq;
}

/** Free an item held with `token` (dropping it if it was removed meanwhile); false if not held so. */
function free(sql: Statements, pool: string, item: string, token: number): boolean {
  const row = sql.poolFree.get({ pool, item, token, freed: next(sql, pool) }) as { removed: number } | undefined;
  if (!row) return false;
  if (row.removed === 1) sql.poolDrop.run({ pool, item });
  return true;
}

export function poolAdd(sql: Statements, pool: string, items: readonly string[]): number {
  let added = 0;
  for (const item of new Set(items)) added += sql.poolAdd.run({ pool, item, freed: next(sql, pool) }).changes;
  return added;
}

export function poolRemove(sql: Statements, pool: string, items: readonly string[]): number {
  let removed = 0;
  for (const item of new Set(items)) removed += sql.poolRemove.run({ pool, item }).changes || sql.poolRemoveHeld.run({ pool, item }).changes;
  return removed;
}

/** Return lapsed items (of one pool, or all); answers how many. */
export function poolReclaim(sql: Statements, now: number, count: Count, only?: string): number {
  let reclaimed = 0;
  for (const { pool, item, token } of sql.poolLapsed.all({ now }) as { pool: string; item: string; token: number }[]) {
    if (only !== undefined && pool !== only) continue;
    if (free(sql, pool, item, token)) reclaimed++;
  }
  if (reclaimed > 0) count('pool_items_reclaimed_total', reclaimed);
  return reclaimed;
}

export function poolAcquire(sql: Statements, params: { pool: string; holder: string; ttlMs: number }, now: number, count: Count): PoolLease | null {
  poolReclaim(sql, now, count, params.pool);
  // Nothing free: write nothing (a waiter's failed try must not wake the other waiters).
  const free = sql.poolFirstFree.get({ pool: params.pool }) as { item: string } | undefined;
  if (!free) return null;
  const token = next(sql, params.pool);
  const expiresAt = now + params.ttlMs;
  sql.poolTake.run({ pool: params.pool, item: free.item, holder: params.holder, token, expiresAt });
  return { pool: params.pool, item: free.item, token, expiresAt };
}

export function poolRenew(sql: Statements, params: { pool: string; item: string; token: number; ttlMs: number }, now: number): number | null {
  const expiresAt = now + params.ttlMs;
  return sql.poolRenew.run({ pool: params.pool, item: params.item, token: params.token, expiresAt }).changes > 0 ? expiresAt : null;
}

export function poolRelease(sql: Statements, params: { pool: string; item: string; token: number }, count: Count): 'released' | 'not-held' {
  if (free(sql, params.pool, params.item, params.token)) return 'released';
  count('double_release_total');
  return 'not-held';
}

export function poolItems(sql: Statements, pool: string): PoolItem[] {
  return (sql.poolItems.all({ pool }) as { item: string; holder: string | null; token: number | null; expires_at: number | null }[])
    .map((r) => ({ item: r.item, holder: r.holder, token: r.token, expiresAt: r.expires_at }));
}
