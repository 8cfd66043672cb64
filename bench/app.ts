/**
 * The bench's app: one no-op task on an SQLite file. The driver (`sqlite.ts`, which sends) and
 * each worker process (`worker.ts`, which runs) build it the same way, as a user's web server
 * and worker import one `tasks.ts`.
 */
import { Conveyor, type Task } from '../src/index.js';

/** The name of the no-op task every scenario sends. */
export const NOOP_TASK = 'bench.noop';

export interface BenchApp {
  app: Conveyor;
  noop: Task<[i: number], null>;
}

/** The app on `dbFile`, with the no-op task registered. */
export function benchApp(dbFile: string): BenchApp {
  const app = new Conveyor({ store: `sqlite:${dbFile}` });
  const noop = app.task({ name: NOOP_TASK }, async (_ctx, _i: number) => null);
  return { app, noop };
}
