/**
 * The engines the exactly-once tests run on: each test file runs its scenarios once per entry,
 * with the same code and assertions. Every world has its own store (a SQLite file, a Redis key
 * prefix, a PostgreSQL schema), a fake clock the test moves by hand, and a silent logger.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { pino, type Logger } from 'pino';
import { Conveyor, Worker, type Store, type WorkerOptions } from '../../src/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { openStore } from '../../src/store/open.js';
import { assertPostgresReachable, removeSchema, SHARED_POSTGRES_URL, uniqueSchema } from '../postgres/servers.js';
import { assertRedisReachable, deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../redis/servers.js';
import { silent, T0 } from '../helpers.js';

export interface Engine {
  name: 'sqlite' | 'redis' | 'postgres';
  ready(): Promise<void>;
  world(options?: { logger?: Logger }): World;
}

export interface World {
  clock: { now: number };
  app: Conveyor;
  store: Store;
  worker(options?: WorkerOptions): Worker;
  close(): Promise<void>;
}

function makeWorld(store: (clock: () => number) => Store, cleanup: () => Promise<void>, logger: Logger = silent): World {
  const clock = { now: T0 };
  const now = () => clock.now;
  const s = store(now);
  const app = new Conveyor({ store: s, clock: now, logger });
  let n = 0;
  return {
    clock, app, store: s,
    worker: (options = {}) => new Worker(app, { logger: silent, workerId: `w${++n}`, ...options }),
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

export const ENGINES: readonly Engine[] = [
  {
    name: 'sqlite',
    ready: async () => {},
    world(options = {}) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-once-'));
      return makeWorld((clock) => new SqliteStore(path.join(dir, 'conveyor.db'), { clock }), async () => fs.rmSync(dir, { recursive: true, force: true }), options.logger);
    },
  },
  {
    name: 'redis',
    ready: () => assertRedisReachable(SHARED_REDIS_URL),
    world(options = {}) {
      const prefix = uniquePrefix();
      return makeWorld((clock) => new RedisStore({ url: SHARED_REDIS_URL, prefix, clock }), async () => void (await deleteKeys(SHARED_REDIS_URL, `*${prefix}*`)), options.logger);
    },
  },
  {
    name: 'postgres',
    ready: () => assertPostgresReachable(),
    world(options = {}) {
      const schema = uniqueSchema();
      return makeWorld((clock) => openStore(`${SHARED_POSTGRES_URL}?schema=${schema}`, { clock }), () => removeSchema(schema), options.logger);
    },
  },
];

/** A logger that keeps its lines, for tests that check a warning was logged. */
export function recordingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

/** Run workers' passes, moving the clock 1 s each time, until no job waits or runs. */
export async function drain(w: World, worker: Worker, passes = 30): Promise<void> {
  for (let i = 0; i < passes; i++) {
    await worker.runOnce();
    const open = await w.store.jobsList({ states: ['PENDING', 'RETRY', 'STARTED'], limit: 1 });
    if (open.length === 0) return;
    w.clock.now += 1000;
  }
  throw new Error('jobs still open after every pass');
}

/**
 * Register `body`'s tests once per engine, under `title (<engine>)`. `world()` opens a fresh
 * world for one test; every world is closed after the engine's tests.
 */
export function describeEngines(title: string, body: (world: (options?: { logger?: Logger }) => World, engine: Engine) => void): void {
  for (const engine of ENGINES) describe(`${title} (${engine.name})`, () => {
    const worlds: World[] = [];
    before(() => engine.ready());
    after(() => Promise.all(worlds.map((w) => w.close())));
    body((options) => {
      const w = engine.world(options);
      worlds.push(w);
      return w;
    }, engine);
  });
}
