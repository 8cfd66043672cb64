/**
 * Schedule ticks in SQLite: a schedule's row holds the last tick beat fired, advanced only
 * forward (compare-and-set max), so two beats never fire one tick twice.
 */
import type { Statements } from './statements.js';

export function scheduleTickGet(sql: Statements, schedule: string): number | null {
  return (sql.tickGet.get({ schedule }) as { tick: number } | undefined)?.tick ?? null;
}

/** Set the schedule's tick to `tick` if later than the recorded one; answers whether it did. */
export function scheduleTickAdvance(sql: Statements, params: { schedule: string; tick: number }): boolean {
  return sql.tickAdvance.run({ schedule: params.schedule, tick: params.tick }).changes > 0;
}
