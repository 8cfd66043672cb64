/**
 * Shared setup of the HTTP tests: each test gets a world of one engine (its own SQLite file or
 * Redis key prefix, a fake clock) and a server on it; `api` sends requests with `fastify.inject`
 * (no socket) and parses the JSON answer.
 *
 * Terminology:
 * - world   the engine world (test/exactly-once/engines.ts): app, store, fake clock, worker().
 * - served  a world plus a Fastify server built on its app.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { z } from 'zod';
import type { Conveyor } from '../../src/index.js';
import { apiServices, buildServer, type ApiServices, type BuildServerOptions } from '../../src/http/server.js';
import { ENGINES, type World } from '../exactly-once/engines.js';
import { silent } from '../helpers.js';

export { ENGINES };

export interface Served {
  w: World;
  app: Conveyor;
  server: FastifyInstance;
  services: ApiServices;
  api<T = any>(method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, unknown>; text: string }>;
  close(): Promise<void>;
}

/** A task set most tests use: `add` (a + b), `boom` (always fails), `slow.step` (records a step). */
export function registerTasks(app: Conveyor): void {
  app.task({ name: 'add', queue: 'math' }, async (_ctx, a: number, b: number) => a + b);
  app.task({ name: 'boom' }, async () => {
    throw new Error('kaboom');
  });
  app.task({ name: 'stepper' }, async (ctx, n: number) => ctx.step('double', () => n * 2));
  app.task({ name: 'typed', argsSchema: z.tuple([z.email(), z.number().int().positive()]) }, async (_ctx, email: string, count: number) => `${email}:${count}`);
}

export async function serve(world: World, options: Omit<BuildServerOptions, 'app'> = {}): Promise<Served> {
  const app = world.app;
  const server = await buildServer({ app, logger: silent, ...options });
  await server.ready();
  return {
    w: world,
    app,
    server,
    services: apiServices(server)!,
    async api(method, url, body, headers = {}) {
      const res = await server.inject({
        method, url, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const isJson = String(res.headers['content-type'] ?? '').includes('json');
      return { status: res.statusCode, body: isJson && res.body ? JSON.parse(res.body) : undefined, headers: res.headers, text: res.body };
    },
    async close() {
      await server.close();
      await world.close();
    },
  };
}
