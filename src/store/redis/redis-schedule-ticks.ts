/**
 * Schedule ticks on Redis, under their own hash tag `<prefix>:{beat}:` (they belong to no queue):
 * `ticks` maps a schedule name to the last tick beat fired, moved only forward by a script
 * (compare-and-set max), so two beats racing for one tick fire it once.
 */
import type { ScriptName } from './scripts.js';

/** What schedule ticks need from their store. */
export interface TicksScope {
  prefix: string;
  run(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown>;
}

export class RedisScheduleTicks {
  readonly #scope: TicksScope;
  readonly #base: string;

  constructor(scope: TicksScope) {
    this.#scope = scope;
    this.#base = `${scope.prefix}:{beat}:`;
  }

  async get(schedule: string): Promise<number | null> {
    const tick = (await this.#scope.run('tick_get', this.#base, [schedule])) as string | null;
    return tick === null ? null : Number(tick);
  }

  async advance(schedule: string, tick: number): Promise<boolean> {
    return (await this.#scope.run('tick_advance', this.#base, [schedule, tick])) === 1;
  }
}
