/**
 * The pools bench's app (`conveyor worker --app dist/bench/pool-app.js --pool …`): a no-op task,
 * and one that computes synchronously for `ms` milliseconds.
 */
import { Conveyor } from '../src/index.js';

export const app = new Conveyor();

export const noop = app.task({ name: 'bench.noop' }, async (_ctx, _i: number) => null);

/** Busy for `ms` of wall time on one core, without yielding. */
export function burn(ms: number): number {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
}

export const cpu = app.task({ name: 'bench.cpu' }, (_ctx, ms: number) => void burn(ms));
