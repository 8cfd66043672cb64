/**
 * The bench's app: one no-op task on an SQLite file or a store URL. The drivers (`sqlite.ts`,
 * `redis.ts`, which send) and each worker process (`worker.ts`, which runs) build it the same way,
 * as a user's web server and worker import one `tasks.ts`.
 *
 * `CONVEYOR_BENCH_RESULT_TTL` (a duration such as `30s`), when set, is the app's `resultTtl`:
 * how long finished jobs are kept before the store's sweeper deletes them (the app's default,
 * 24 h, otherwise). A driver sets it in its own environment, which its worker processes inherit.
 */
import { Conveyor, type Duration, type Task } from '../src/index.js';

/** The environment variable that sets the bench app's `resultTtl`. */
export const RESULT_TTL_ENV = 'CONVEYOR_BENCH_RESULT_TTL';

/** The name of the no-op task every scenario sends. */
export const NOOP_TASK = 'bench.noop';

export interface BenchApp {
  app: Conveyor;
  noop: Task<[i: number], null>;
}

/** The app on `where` (an SQLite file path, or a store URL such as `redis://…`), with the no-op task registered. */
export function benchApp(where: string): BenchApp {
  const resultTtl = process.env[RESULT_TTL_ENV] || undefined;
  // Conveyor checks the value (an InvalidArgumentError names `resultTtl`).
  const app = new Conveyor({ store: /^[a-z][a-z0-9+.-]*:/i.test(where) ? where : `sqlite:${where}`, resultTtl: resultTtl as Duration | undefined });
  const noop = app.task({ name: NOOP_TASK }, async (_ctx, _i: number) => null);
  return { app, noop };
}
