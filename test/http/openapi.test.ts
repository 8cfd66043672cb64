/**
 * The OpenAPI document: it is well-formed OpenAPI 3.1 (every $ref resolves, every path
 * parameter is declared, operation ids are unique), it lists exactly the routes the server
 * serves, and what the routes answer matches the schemas it publishes (once per engine).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { z } from 'zod';
import Fastify from 'fastify';
import { buildServer, conveyorRoutes } from '../../src/http/server.js';
import {
  CountersSchema, QueueListSchema, SendResultSchema, TaskDetailSchema, TaskListSchema, ThroughputSchema, WorkerListSchema,
} from '../../src/http/schemas.js';
import { drain } from '../exactly-once/engines.js';
import { silent, T0 } from '../helpers.js';
import { ENGINES, registerTasks, serve } from './harness.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
  security?: unknown[];
};

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 JSON: refs resolve, path parameters are declared, operation ids are unique', async () => {
    const engine = ENGINES[0]!;
    const w = engine.world();
    const server = await buildServer({ app: w.app, logger: silent, token: 't' });
    try {
      const res = await server.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: 'Bearer t' } });
      assert.equal(res.statusCode, 200);
      const doc = JSON.parse(res.body) as Doc;
      assert.equal(doc.openapi, '3.1.0');
      for (const ref of refs(doc)) {
        const m = /^#\/components\/schemas\/(\w+)$/.exec(ref);
        assert.ok(m && m[1]! in doc.components.schemas, `unresolved ${ref}`);
      }
      for (const schema of Object.values(doc.components.schemas)) {
        assert.ok(!('$schema' in (schema as object)) && !('$id' in (schema as object)), 'component schemas carry no $schema/$id');
      }
      const ids = new Set<string>();
      for (const [path, ops] of Object.entries(doc.paths)) {
        const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const op of Object.values(ops)) {
          assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
          ids.add(op.operationId);
          assert.deepEqual(op.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? [], names, path);
          assert.ok(Object.keys(op.responses).length > 0);
        }
      }
      assert.ok(doc.components.securitySchemes && doc.security, 'a token adds the security schemes');
      assert.ok(doc.paths['/api/tasks/{id}']!.get!.responses['401'], 'and 401 answers');
    } finally {
      await server.close();
      await w.close();
    }
  });

  it('lists exactly the routes the server serves', async () => {
    const engine = ENGINES[0]!;
    const w = engine.world();
    const server = Fastify();
    const served: string[] = [];
    server.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') served.push(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}')}`);
      }
    });
    await server.register(conveyorRoutes, { app: w.app });
    try {
      const doc = (await server.inject({ method: 'GET', url: '/openapi.json' })).json() as Doc;
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
      assert.deepEqual([...new Set(served)].sort(), documented.sort());
    } finally {
      await server.close();
      await w.close();
    }
  });
});

for (const engine of ENGINES) {
  describe(`answers match the published schemas on ${engine.name}`, () => {
    before(() => engine.ready());

    it('send, detail, list, queues, workers, counters, throughput', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        const check = (schema: z.ZodType, body: unknown, what: string) => {
          const r = schema.safeParse(body);
          assert.ok(r.success, `${what}: ${JSON.stringify(r.error?.issues)}`);
        };
        const sent = await s.api('POST', '/api/tasks/stepper', { args: [2] });
        check(SendResultSchema, sent.body, 'send');
        await s.api('POST', '/api/tasks/boom', {});
        await s.app.store.workersHeartbeat({ worker: { id: 'w9', hostname: 'h', pid: 1, queues: ['default'], concurrency: 1, startedAt: T0, active: [], counts: {} }, ttlMs: 60_000 });
        await drain(s.w, s.w.worker());
        check(TaskDetailSchema, (await s.api('GET', sent.body.statusUrl)).body, 'detail');
        const list = (await s.api('GET', '/api/tasks')).body;
        check(TaskListSchema, list, 'list');
        for (const t of list.tasks) check(TaskDetailSchema, (await s.api('GET', `/api/tasks/${t.id}`)).body, `detail of ${t.id}`);
        check(QueueListSchema, (await s.api('GET', '/api/queues')).body, 'queues');
        check(WorkerListSchema, (await s.api('GET', '/api/workers')).body, 'workers');
        check(CountersSchema, (await s.api('GET', '/api/counters')).body, 'counters');
        check(ThroughputSchema, (await s.api('GET', '/api/throughput')).body, 'throughput');
      } finally {
        await s.close();
      }
    });
  });
}
