/**
 * What every PostgreSQL transition shares: the schema's qualified table names, the transaction
 * handle, and the exactly-once counters (counted inside the transition that decides).
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { CounterName } from '../store.js';
import { quoted } from './migrate.js';

/**
 * What a statement runs on: the pool (a statement on its own), a client inside one of the
 * store's transactions, or the caller's own transaction (caller-tx.ts).
 */
export type Tx = Pick<Pool | PoolClient, 'query'>;

/** The schema's tables, each qualified by the quoted schema name. */
export interface Tables {
  jobs: string;
  steps: string;
  chords: string;
  counters: string;
  pools: string;
  items: string;
  workers: string;
  ticks: string;
  /** Migration 2's function: a worker's completions and next reserve in one statement. */
  settleAndTake: string;
}

export function tables(schema: string): Tables {
  const q = quoted(schema);
  return {
    jobs: `${q}.jobs`, steps: `${q}.steps`, chords: `${q}.chord_results`, counters: `${q}.counters`,
    pools: `${q}.pools`, items: `${q}.pool_items`, workers: `${q}.workers`, ticks: `${q}.schedule_ticks`,
    settleAndTake: `${q}.settle_and_take`,
  };
}

/** Each statement's name: the same text is prepared once per connection and reused. */
const names = new Map<string, string>();
const nameOf = (text: string) => {
  let name = names.get(text);
  if (!name) names.set(text, (name = `conveyor_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`));
  return name;
};

/** Run one statement, prepared (its text is the same every call); answers its rows. */
export async function run<T extends object = Record<string, unknown>>(tx: Tx, text: string, params: unknown[] = []): Promise<T[]> {
  return (await tx.query<T>({ name: nameOf(text), text, values: params })).rows;
}

/** Add `n` to a counter, inside the caller's transaction. */
export async function count(tx: Tx, t: Tables, name: CounterName, n = 1): Promise<void> {
  if (n === 0) return;
  await run(tx, `INSERT INTO ${t.counters} AS c (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = c.value + excluded.value`, [name, n]);
}
