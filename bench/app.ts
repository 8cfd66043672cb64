/**
 * The bench's app: one no-op task on an SQLite file or a store URL. The drivers (`sqlite.ts`,
 * `redis.ts`, which send) and each worker process (`worker.ts`, which runs) build it the same way,
 * as a user's web server and worker import one `tasks.ts`.
 */
import { Conveyor, type Task } from '../src/index.js';

/** The name of the no-op task every scenario sends. */
export const NOOP_TASK = 'bench.noop';

export interface BenchApp {
  app: Conveyor;
  noop: Task<[i: number], null>;
}

/** The app on `where` (an SQLite file path, or a store URL such as `redis://…`), with the no-op task registered. */
export function benchApp(where: string): BenchApp {
  const app = new Conveyor({ store: /^[a-z][a-z0-9+.-]*:/i.test(where) ? where : `sqlite:${where}` });
  const noop = app.task({ name: NOOP_TASK }, async (_ctx, _i: number) => null);
  return { app, noop };
}
