/**
 * The API over a real listening socket, once per engine: the token (header, `?token=` on GETs
 * only), 413 for oversized bodies, the refusal to bind a public host without a token, and the
 * live events stream (snapshots paced between min and max interval, job events).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { InvalidArgumentError } from '../../src/index.js';
import { apiServices, startServer, type StartServerOptions } from '../../src/http/server.js';
import { drain, type World } from '../exactly-once/engines.js';
import { silent } from '../helpers.js';
import { ENGINES, registerTasks } from './harness.js';
import { openEvents } from './sse.js';

async function listen(w: World, options: Omit<StartServerOptions, 'app'> = {}): Promise<{ server: FastifyInstance; base: string; close(): Promise<void> }> {
  const { server, url } = await startServer({ app: w.app, host: '127.0.0.1', port: 0, logger: silent, ...options });
  return {
    server,
    base: url.replace(/\/$/, ''),
    async close() {
      await server.close();
      await w.close();
    },
  };
}

for (const engine of ENGINES) {
  describe(`HTTP API over a socket on ${engine.name}`, () => {
    before(() => engine.ready());

    it('with a token: 401 without it or with a wrong one; Bearer on any method, ?token= on GETs only; dashboard assets are open', async () => {
      const w = engine.world();
      registerTasks(w.app);
      const s = await listen(w, { token: 's3cret' });
      try {
        const none = await fetch(`${s.base}/api/queues`);
        assert.equal(none.status, 401);
        assert.equal(none.headers.get('www-authenticate'), 'Bearer');
        assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
        assert.equal((await fetch(`${s.base}/api/queues`, { headers: { authorization: 'Bearer nope' } })).status, 401);
        assert.equal((await fetch(`${s.base}/api/queues`, { headers: { authorization: 'Bearer s3cret' } })).status, 200);
        assert.equal((await fetch(`${s.base}/api/queues?token=s3cret`)).status, 200);
        assert.equal((await fetch(`${s.base}/api/queues?token=s3cre`)).status, 401);
        for (const path of ['/metrics', '/openapi.json', '/api/counters', '/']) {
          assert.equal((await fetch(`${s.base}${path}`)).status, 401, path);
          assert.equal((await fetch(`${s.base}${path}?token=s3cret`)).status, 200, path);
        }
        const body = JSON.stringify({ args: [1, 2] });
        const post = (url: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
        assert.equal((await post(`${s.base}/api/tasks/add?token=s3cret`)).status, 401, 'a query token is for GETs only');
        assert.equal((await post(`${s.base}/api/tasks/add`, { authorization: 'Bearer s3cret' })).status, 202);
        assert.equal((await fetch(`${s.base}/assets/app.js`)).status, 200, 'static dashboard code needs no token');
        assert.equal((await fetch(`${s.base}/assets/nothing.js`)).status, 404);
      } finally {
        await s.close();
      }
    });

    it('a body over the limit answers 413 PAYLOAD_TOO_LARGE; args over the app\'s payload limit too, naming args', async () => {
      const w = engine.world();
      registerTasks(w.app);
      const s = await listen(w);
      try {
        const post = (args: unknown[]) => fetch(`${s.base}/api/tasks/add`, { method: 'POST', body: JSON.stringify({ args }), headers: { 'content-type': 'application/json' } });
        const huge = await post(['x'.repeat(1_300_000)]);
        assert.equal(huge.status, 413);
        assert.equal(((await huge.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
        // Within the body limit (1 MiB + 64 KiB) but over the job's args limit (1 MiB).
        const big = await post(['x'.repeat(1_050_000)]);
        assert.equal(big.status, 413);
        const error = ((await big.json()) as { error: { code: string; field: string } }).error;
        assert.deepEqual([error.code, error.field], ['PAYLOAD_TOO_LARGE', 'args']);
        assert.equal((await post([1, 2])).status, 202, 'the server still answers');
        assert.equal((await w.store.jobsList({ limit: 10 })).length, 1);
      } finally {
        await s.close();
      }
      const small = engine.world();
      const t = await listen(small, { bodyLimit: 100 });
      try {
        const r = await fetch(`${t.base}/api/tasks/add`, { method: 'POST', body: JSON.stringify({ args: ['y'.repeat(200)] }), headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 413, 'bodyLimit is configurable');
      } finally {
        await t.close();
      }
    });

    it('refuses to bind a non-loopback host without a token, with a clear error; loopback or a token is fine', async () => {
      const w = engine.world();
      try {
        await assert.rejects(startServer({ app: w.app, host: '0.0.0.0', port: 0, logger: silent }), (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError);
          assert.match(err.message, /refusing to serve on 0\.0\.0\.0 without a token.*--token/);
          return true;
        });
        await assert.rejects(startServer({ app: w.app, host: '::', port: 0, logger: silent }), InvalidArgumentError);
        const open = await startServer({ app: w.app, host: '0.0.0.0', port: 0, token: 't', logger: silent });
        await open.server.close();
        const local = await startServer({ app: w.app, host: 'localhost', port: 0, logger: silent });
        await local.server.close();
      } finally {
        await w.close();
      }
    });

    it('GET /api/events: a snapshot at once, job events for new and changed jobs, snapshots at least every maxInterval and at most every minInterval', async () => {
      const w = engine.world();
      registerTasks(w.app);
      const s = await listen(w, { token: 'tk', events: { minIntervalMs: 300, maxIntervalMs: 1200 } });
      const events = await openEvents(`${s.base}/api/events?token=tk`);
      try {
        assert.equal(events.status, 200);
        assert.match(String(events.headers['content-type']), /^text\/event-stream/);
        const first = await events.next((e) => e.event === 'snapshot');
        assert.deepEqual(Object.keys(first.data).sort(), ['counters', 'queues', 'throughput', 'workers']);
        assert.deepEqual(first.data.queues, []);
        assert.equal(first.data.throughput.points.length, 30);

        const sent = (await (await fetch(`${s.base}/api/tasks/add?x=1`, {
          method: 'POST', body: JSON.stringify({ args: [2, 3] }), headers: { 'content-type': 'application/json', authorization: 'Bearer tk' },
        })).json()) as { taskId: string };
        const pending = await events.next((e) => e.event === 'job' && e.data.id === sent.taskId);
        assert.deepEqual([pending.data.task, pending.data.queue, pending.data.state], ['add', 'math', 'PENDING']);
        await events.next((e) => e.event === 'snapshot' && e.data.queues.some((q: { name: string; counts: { PENDING: number } }) => q.name === 'math' && q.counts.PENDING === 1));

        await drain(w, w.worker());
        const done = await events.next((e) => e.event === 'job' && e.data.id === sent.taskId && e.data.state === 'SUCCESS');
        assert.equal(typeof done.data.at, 'number');

        // Quiet store: snapshots keep coming, paced by maxInterval.
        const from = events.events.length;
        await events.next((e) => e.event === 'snapshot', 5_000, from);
        const a = events.events.length;
        await events.next((e) => e.event === 'snapshot', 5_000, a);
        const snaps = events.events.filter((e) => e.event === 'snapshot');
        const gaps = snaps.slice(1).map((e, i) => e.receivedAt - snaps[i]!.receivedAt);
        assert.ok(gaps.every((g) => g >= 250), `snapshots never closer than minInterval (300 ms, less timer slack): ${gaps.join(', ')}`);
        assert.equal(apiServices(s.server)!.events.clients, 1);
      } finally {
        events.close();
        await s.close();
      }
    });

    it('closing the server ends open event streams', async () => {
      const w = engine.world();
      const s = await listen(w);
      const events = await openEvents(`${s.base}/api/events`);
      await events.next((e) => e.event === 'snapshot');
      await s.close();
      await events.ended;
      assert.equal(events.status, 200);
    });
  });
}
