/**
 * The API mounted inside someone else's server, once per engine: `createRequestListener` in a
 * plain node:http server under a path prefix (and as Express mounts it), and the
 * `conveyorRoutes` plugin in a user's own Fastify app under a prefix.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { conveyorRoutes, createRequestListener } from '../../src/http/server.js';
import { silent } from '../helpers.js';
import { ENGINES, registerTasks } from './harness.js';
import { openEvents } from './sse.js';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

for (const engine of ENGINES) {
  describe(`HTTP API mounted in another server on ${engine.name}`, () => {
    before(() => engine.ready());

    it('createRequestListener serves every route under a prefix of a plain node:http server, beside its own routes', async () => {
      const w = engine.world();
      registerTasks(w.app);
      const conveyor = createRequestListener(w.app, { prefix: '/conveyor', token: 'tk', logger: silent });
      const server = http.createServer((req, res) => {
        if (req.url?.startsWith('/conveyor/') || req.url === '/conveyor') return conveyor(req, res);
        res.end('the host app');
      });
      const base = await listen(server);
      const auth = { authorization: 'Bearer tk' };
      try {
        assert.equal(await (await fetch(`${base}/elsewhere`)).text(), 'the host app');
        const sent = await fetch(`${base}/conveyor/api/tasks/add`, { method: 'POST', body: JSON.stringify({ args: [1, 2] }), headers: { 'content-type': 'application/json', ...auth } });
        assert.equal(sent.status, 202);
        const { taskId, statusUrl } = (await sent.json()) as { taskId: string; statusUrl: string };
        assert.equal(statusUrl, `/conveyor/api/tasks/${taskId}`, 'the status URL carries the prefix');
        const detail = (await (await fetch(`${base}${statusUrl}`, { headers: auth })).json()) as { state: string; args: number[] };
        assert.deepEqual([detail.state, detail.args], ['PENDING', [1, 2]]);
        assert.equal((await fetch(`${base}${statusUrl}`)).status, 401);

        for (const path of ['/api/tasks', '/api/queues', '/api/workers', '/api/counters', '/api/throughput', '/metrics', '/openapi.json', '/']) {
          assert.equal((await fetch(`${base}/conveyor${path}`, { headers: auth })).status, 200, path);
        }
        const doc = (await (await fetch(`${base}/conveyor/openapi.json`, { headers: auth })).json()) as { servers: { url: string }[] };
        assert.deepEqual(doc.servers, [{ url: '/conveyor' }]);
        assert.equal((await fetch(`${base}/conveyor/api/nothing`, { headers: auth })).status, 404);
        assert.equal((await fetch(`${base}/conveyor/api/tasks/${taskId}/revoke`, { method: 'POST', headers: auth })).status, 200);

        const events = await openEvents(`${base}/conveyor/api/events?token=tk`);
        const snapshot = await events.next((e) => e.event === 'snapshot');
        assert.equal(snapshot.data.queues[0].counts.REVOKED, 1);
        events.close();
      } finally {
        await conveyor.close();
        await close(server);
        await w.close();
      }
    });

    it('under Express-style mounting (req.url stripped, req.originalUrl kept) the listener routes by the original URL', async () => {
      const w = engine.world();
      const conveyor = createRequestListener(w.app, { prefix: '/jobs', logger: silent });
      const server = http.createServer((req, res) => {
        // What `app.use('/jobs', listener)` does to the request before calling the listener.
        const r = req as http.IncomingMessage & { originalUrl?: string };
        r.originalUrl = req.url;
        req.url = req.url!.slice('/jobs'.length) || '/';
        conveyor(req, res);
      });
      const base = await listen(server);
      try {
        await conveyor.ready();
        const r = await fetch(`${base}/jobs/api/counters`);
        assert.equal(r.status, 200);
        assert.equal(((await r.json()) as Record<string, number>).duplicates_suppressed_total, 0);
      } finally {
        await conveyor.close();
        await close(server);
        await w.close();
      }
    });

    it('conveyorRoutes registers in a user\'s Fastify app under a prefix, with its own auth and error shapes, leaving the app\'s routes alone', async () => {
      const w = engine.world();
      registerTasks(w.app);
      const fastify = Fastify();
      fastify.get('/health', async () => ({ ok: true }));
      await fastify.register(conveyorRoutes, { app: w.app, prefix: '/conveyor', token: 'tk' });
      try {
        assert.equal((await fastify.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'the app\'s own route needs no token');
        const unauthorized = await fastify.inject({ method: 'GET', url: '/conveyor/api/queues' });
        assert.equal(unauthorized.statusCode, 401);
        const sent = await fastify.inject({ method: 'POST', url: '/conveyor/api/tasks/add', headers: { authorization: 'Bearer tk' }, payload: { args: [1], options: { priority: 'x' } } });
        assert.equal(sent.statusCode, 400);
        assert.equal(sent.json().error.field, 'options.priority');
        const ok = await fastify.inject({ method: 'POST', url: '/conveyor/api/tasks/add', headers: { authorization: 'Bearer tk' }, payload: { args: [1, 1] } });
        assert.equal(ok.statusCode, 202);
        assert.match(ok.json().statusUrl, /^\/conveyor\/api\/tasks\//);
        const list = await fastify.inject({ method: 'GET', url: '/conveyor/api/tasks?token=tk' });
        assert.equal(list.json().tasks.length, 1);
      } finally {
        await fastify.close();
        await w.close();
      }
    });

    it('closing a user\'s Fastify app ends the plugin\'s open event streams (no hanging close)', async () => {
      const w = engine.world();
      const fastify = Fastify();
      await fastify.register(conveyorRoutes, { app: w.app, prefix: '/c' });
      await fastify.listen({ host: '127.0.0.1', port: 0 });
      try {
        const events = await openEvents(`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}/c/api/events`);
        await events.next((e) => e.event === 'snapshot');
        await fastify.close();
        await events.ended;
      } finally {
        await fastify.close();
        await w.close();
      }
    });
  });
}
