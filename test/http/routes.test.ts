/**
 * Every API route, once per engine (SQLite, Redis), through `fastify.inject`: the shapes of
 * docs/http-api.md, the error answers (400 naming the field, 404, 409), and that what the API
 * shows is what the store holds.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { COUNTERS, JOB_STATES } from '../../src/index.js';
import { drain } from '../exactly-once/engines.js';
import { T0 } from '../helpers.js';
import { ENGINES, registerTasks, serve } from './harness.js';

for (const engine of ENGINES) {
  describe(`HTTP API routes on ${engine.name}`, () => {
    before(() => engine.ready());

    it('POST /api/tasks/:name sends a task: 202 with its id and status URL; an idempotency key answers the first job, duplicate: true', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        const sent = await s.api('POST', '/api/tasks/add', { args: [1, 2], options: { priority: 3 } });
        assert.equal(sent.status, 202, sent.text);
        assert.equal(sent.body.duplicate, false);
        assert.equal(sent.body.statusUrl, `/api/tasks/${sent.body.taskId}`);
        const job = await s.app.store.jobGet(sent.body.taskId);
        assert.deepEqual([job?.task, job?.queue, job?.priority, job?.argsJson], ['add', 'math', 3, '[1,2]']);

        const first = await s.api('POST', '/api/tasks/add', { args: [5, 5], options: { idempotencyKey: 'k1' } });
        const again = await s.api('POST', '/api/tasks/add', { args: [5, 5], options: { idempotencyKey: 'k1' } });
        assert.equal(again.status, 202);
        assert.deepEqual([again.body.taskId, again.body.duplicate], [first.body.taskId, true]);
        assert.equal((await s.app.counters()).duplicates_suppressed_total, 1);

        // countdown, queue and taskId are honoured; args default to [].
        const later = await s.api('POST', '/api/tasks/add', { options: { countdown: '10m', queue: 'later', taskId: 'my-id' } });
        assert.equal(later.body.taskId, 'my-id');
        const laterJob = await s.app.store.jobGet('my-id');
        assert.deepEqual([laterJob?.queue, laterJob?.runAt, laterJob?.argsJson], ['later', T0 + 600_000, '[]']);
        const eta = await s.api('POST', '/api/tasks/add', { args: [0, 0], options: { eta: new Date(T0 + 5000).toISOString() } });
        assert.equal((await s.app.store.jobGet(eta.body.taskId))?.runAt, T0 + 5000);
      } finally {
        await s.close();
      }
    });

    it('POST /api/tasks/:name answers 404 for a task the app does not register, 400 naming the field for bad input', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        const unknown = await s.api('POST', '/api/tasks/no.such.task', { args: [] });
        assert.equal(unknown.status, 404);
        assert.equal(unknown.body.error.code, 'NOT_FOUND');
        assert.match(unknown.body.error.message, /no\.such\.task/);

        const cases: [unknown, string][] = [
          [{ args: 'x' }, 'args'],
          [{ args: [], options: { priority: 'high' } }, 'options.priority'],
          [{ args: [], options: { delay: 5 } }, 'options.delay'],
          [{ args: [], options: { countdown: 'soon' } }, 'options.countdown'],
          [{ args: [], options: { countdown: 5, eta: T0 } }, 'options.eta'],
          [{ args: [], options: { eta: 'tuesday' } }, 'options.eta'],
          [{ args: [], options: { queue: '' } }, 'options.queue'],
          [{ args: [], extra: true }, 'extra'],
        ];
        for (const [body, field] of cases) {
          const r = await s.api('POST', '/api/tasks/add', body);
          assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
          assert.equal(r.body.error.code, 'BAD_REQUEST');
          assert.equal(r.body.error.field, field, JSON.stringify(r.body));
        }
        // A task's own args schema (options.argsSchema) names the offending argument.
        const typed = await s.api('POST', '/api/tasks/typed', { args: ['not-an-email', 3] });
        assert.equal(typed.status, 400);
        assert.equal(typed.body.error.field, 'args[0]');
        assert.equal((await s.api('POST', '/api/tasks/typed', { args: ['ann@example.com', -1] })).body.error.field, 'args[1]');
        assert.equal((await s.api('POST', '/api/tasks/typed', { args: ['ann@example.com', 2] })).status, 202);

        const broken = await s.api('POST', '/api/tasks/add', '{"args": [1,');
        assert.equal(broken.status, 400);
        assert.equal(broken.body.error.code, 'BAD_REQUEST');
        assert.equal(broken.body.error.field, 'body');
        const text = await s.server.inject({ method: 'POST', url: '/api/tasks/add', headers: { 'content-type': 'text/plain' }, payload: 'hi' });
        assert.equal(text.statusCode, 400);
        assert.equal((await s.app.store.jobsList({ limit: 10 })).length, 2 - 1, 'only the valid typed call was sent');
      } finally {
        await s.close();
      }
    });

    it('without registered tasks (no --app), any name is sent', async () => {
      const s = await serve(engine.world());
      try {
        const r = await s.api('POST', '/api/tasks/elsewhere.task', { args: [1] });
        assert.equal(r.status, 202);
        assert.equal((await s.app.store.jobGet(r.body.taskId))?.task, 'elsewhere.task');
        const strict = await serve(engine.world(), { unknownTasks: 'reject' });
        try {
          assert.equal((await strict.api('POST', '/api/tasks/elsewhere.task', { args: [] })).status, 404);
        } finally {
          await strict.close();
        }
      } finally {
        await s.close();
      }
    });

    it('GET /api/tasks/:id shows a finished job: result, timings, steps, runtime; 404 for an unknown id', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        const { body } = await s.api('POST', '/api/tasks/stepper', { args: [21] });
        const pending = await s.api('GET', body.statusUrl);
        assert.equal(pending.status, 200);
        assert.equal(pending.body.state, 'PENDING');
        assert.deepEqual([pending.body.args, pending.body.result, pending.body.startedAt, pending.body.runtimeMs], [[21], null, null, null]);

        await drain(s.w, s.w.worker());
        const done = await s.api('GET', body.statusUrl);
        const d = done.body;
        assert.deepEqual([d.id, d.task, d.queue, d.state, d.result, d.attempts, d.deliveries, d.worker, d.error], [body.taskId, 'stepper', 'default', 'SUCCESS', 42, 1, 1, 'w1', null]);
        assert.equal(d.enqueuedAt, T0);
        assert.equal(typeof d.startedAt, 'number');
        assert.equal(d.runtimeMs, d.finishedAt - d.startedAt);
        assert.equal(d.fencingToken, 1);
        assert.deepEqual(d.steps.map((x: { name: string; result: unknown; token: number }) => [x.name, x.result, x.token]), [['double', 42, 1]]);
        assert.deepEqual([d.history, d.callbacks, d.chord, d.parent, d.progress, d.idempotencyKey], [[], [], null, null, null, null]);
        for (const key of ['priority', 'runAt', 'expiresAt']) assert.ok(key in d, key);

        const missing = await s.api('GET', '/api/tasks/nope');
        assert.equal(missing.status, 404);
        assert.equal(missing.body.error.code, 'NOT_FOUND');
      } finally {
        await s.close();
      }
    });

    it('GET /api/tasks lists newest first, filters by state (comma list), queue and task, and pages with a cursor', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push((await s.api('POST', '/api/tasks/add', { args: [i, i] })).body.taskId);
          s.w.clock.now += 10;
        }
        const boom = (await s.api('POST', '/api/tasks/boom', {})).body.taskId;
        await drain(s.w, s.w.worker({ queues: ['default', 'math'] }));

        const all = await s.api('GET', '/api/tasks');
        assert.deepEqual(all.body.tasks.map((t: { id: string }) => t.id), [boom, ...[...ids].reverse()]);
        assert.equal(all.body.nextCursor, null);
        const first = all.body.tasks[1];
        assert.deepEqual(Object.keys(first).sort(), ['attempts', 'enqueuedAt', 'finishedAt', 'id', 'progress', 'queue', 'runtimeMs', 'startedAt', 'state', 'task', 'worker']);

        const failed = await s.api('GET', '/api/tasks?state=FAILURE');
        assert.deepEqual(failed.body.tasks.map((t: { id: string }) => t.id), [boom]);
        const both = await s.api('GET', '/api/tasks?state=failure,SUCCESS,PENDING');
        assert.equal(both.body.tasks.length, 6);
        assert.equal((await s.api('GET', '/api/tasks?queue=math')).body.tasks.length, 5);
        assert.equal((await s.api('GET', '/api/tasks?task=boom')).body.tasks.length, 1);

        const page1 = await s.api('GET', '/api/tasks?queue=math&limit=2');
        assert.deepEqual(page1.body.tasks.map((t: { id: string }) => t.id), [ids[4], ids[3]]);
        const page2 = await s.api('GET', `/api/tasks?queue=math&limit=2&cursor=${page1.body.nextCursor}`);
        assert.deepEqual(page2.body.tasks.map((t: { id: string }) => t.id), [ids[2], ids[1]]);
        const page3 = await s.api('GET', `/api/tasks?queue=math&limit=2&cursor=${page2.body.nextCursor}`);
        assert.deepEqual([page3.body.tasks.map((t: { id: string }) => t.id), page3.body.nextCursor], [[ids[0]], null]);

        for (const [query, field] of [['state=DONE', 'state'], ['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=x', 'limit'], ['cursor=zzz', 'cursor'], ['colour=red', 'colour']]) {
          const r = await s.api('GET', `/api/tasks?${query}`);
          assert.equal(r.status, 400, query);
          assert.equal(r.body.error.field, field, `${query}: ${r.text}`);
        }
      } finally {
        await s.close();
      }
    });

    it('POST /api/tasks/:id/retry and /revoke: 200, 409 when the state does not allow it, 404 for an unknown id', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        const boom = (await s.api('POST', '/api/tasks/boom', {})).body.taskId;
        assert.equal((await s.api('POST', `/api/tasks/${boom}/retry`)).status, 409, 'a pending job is not final');
        await drain(s.w, s.w.worker());
        assert.equal((await s.api('GET', `/api/tasks/${boom}`)).body.state, 'FAILURE');
        assert.equal((await s.api('GET', `/api/tasks/${boom}`)).body.error.message, 'kaboom');
        const retried = await s.api('POST', `/api/tasks/${boom}/retry`, undefined, { 'content-type': 'application/json' });
        assert.deepEqual([retried.status, retried.body], [200, { result: 'retried' }]);
        assert.equal((await s.api('GET', `/api/tasks/${boom}`)).body.state, 'PENDING');

        const revoked = await s.api('POST', `/api/tasks/${boom}/revoke`, { reason: 'no more' });
        assert.deepEqual([revoked.status, revoked.body], [200, { result: 'revoked' }]);
        const detail = (await s.api('GET', `/api/tasks/${boom}`)).body;
        assert.equal(detail.state, 'REVOKED');
        const again = await s.api('POST', `/api/tasks/${boom}/revoke`);
        assert.deepEqual([again.status, again.body.error.code], [409, 'CONFLICT']);
        assert.equal((await s.api('POST', `/api/tasks/${boom}/revoke`, { terminate: 'yes' })).body.error.field, 'terminate');

        assert.equal((await s.api('POST', '/api/tasks/nope/retry')).status, 404);
        assert.equal((await s.api('POST', '/api/tasks/nope/revoke', {})).status, 404);
      } finally {
        await s.close();
      }
    });

    it('GET /api/queues counts every state and how long the head of each queue has waited; DELETE purges the waiting jobs', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        for (let i = 0; i < 3; i++) await s.api('POST', '/api/tasks/add', { args: [i, 1] });
        await s.api('POST', '/api/tasks/boom', { options: { countdown: '1h' } });
        s.w.clock.now += 7000;
        const { body } = await s.api('GET', '/api/queues');
        assert.deepEqual(body.queues.map((q: { name: string }) => q.name), ['default', 'math']);
        const [def, math] = body.queues;
        assert.deepEqual(Object.keys(math.counts).sort(), [...JOB_STATES].sort());
        assert.equal(math.counts.PENDING, 3);
        assert.deepEqual([math.nextDueAt, math.oldestAgeMs], [T0, 7000]);
        assert.deepEqual([def.counts.PENDING, def.nextDueAt, def.oldestAgeMs], [1, null, null], 'a job scheduled for later is not due');

        const purged = await s.api('DELETE', '/api/queues/math/jobs');
        assert.deepEqual([purged.status, purged.body], [200, { purged: 3 }]);
        assert.deepEqual((await s.api('DELETE', '/api/queues/empty/jobs')).body, { purged: 0 });
        assert.deepEqual((await s.api('GET', '/api/queues')).body.queues.map((q: { name: string }) => q.name), ['default']);
      } finally {
        await s.close();
      }
    });

    it('GET /api/workers lists live workers; /api/counters the exactly-once counters; /api/throughput 30 s buckets', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        assert.deepEqual((await s.api('GET', '/api/workers')).body, { workers: [] });
        await s.app.store.workersHeartbeat({
          worker: { id: 'w9', hostname: 'h', pid: 42, queues: ['math'], concurrency: 4, startedAt: T0, active: [], counts: { succeeded: 2 } }, ttlMs: 10_000,
        });
        const workers = (await s.api('GET', '/api/workers')).body.workers;
        assert.deepEqual(workers.map((w: { id: string; pid: number; lastSeenAt: number }) => [w.id, w.pid, w.lastSeenAt]), [['w9', 42, T0]]);

        const counters = (await s.api('GET', '/api/counters')).body;
        assert.deepEqual(Object.keys(counters), [...COUNTERS]);
        assert.ok(Object.values(counters).every((v) => v === 0));

        const t0 = (await s.api('GET', '/api/throughput')).body;
        assert.equal(t0.bucketMs, 30_000);
        assert.equal(t0.points.length, 30);
        assert.ok(t0.points.every((p: { succeeded: number; failed: number }) => p.succeeded === 0 && p.failed === 0));

        await s.services.throughput.runOnce(); // the baseline
        for (let i = 0; i < 3; i++) await s.api('POST', '/api/tasks/add', { args: [i, 1] });
        await s.api('POST', '/api/tasks/boom', {});
        await drain(s.w, s.w.worker());
        await s.services.throughput.runOnce();
        const t1 = (await s.api('GET', '/api/throughput')).body;
        const last = t1.points.at(-1);
        assert.equal(last.at, Math.floor(s.w.clock.now / 30_000) * 30_000);
        assert.deepEqual([last.succeeded, last.failed], [3, 1]);
        s.w.clock.now += 16 * 60_000;
        await s.services.throughput.runOnce();
        assert.ok((await s.api('GET', '/api/throughput')).body.points.every((p: { succeeded: number }) => p.succeeded === 0), 'older than 15 minutes: gone');
      } finally {
        await s.close();
      }
    });

    it('GET /metrics: queue depth by state, head age, the exactly-once counters and live workers, read at scrape time', async () => {
      const s = await serve(engine.world());
      try {
        registerTasks(s.app);
        await s.api('POST', '/api/tasks/add', { args: [1, 1], options: { idempotencyKey: 'm' } });
        await s.api('POST', '/api/tasks/add', { args: [1, 1], options: { idempotencyKey: 'm' } });
        await s.api('POST', '/api/tasks/add', { args: [2, 2] });
        s.w.clock.now += 2500;
        await s.app.store.workersHeartbeat({ worker: { id: 'w9', hostname: 'h', pid: 1, queues: ['math'], concurrency: 1, startedAt: T0, active: [], counts: {} }, ttlMs: 10_000 });
        const r = await s.server.inject({ method: 'GET', url: '/metrics' });
        assert.equal(r.statusCode, 200);
        assert.match(String(r.headers['content-type']), /^text\/plain/);
        const text = r.body;
        assert.match(text, /^conveyor_queue_jobs\{queue="math",state="PENDING"\} 2$/m);
        assert.match(text, /^conveyor_queue_jobs\{queue="math",state="SUCCESS"\} 0$/m);
        assert.match(text, /^conveyor_queue_oldest_age_seconds\{queue="math"\} 2.5$/m);
        assert.match(text, /^# TYPE conveyor_duplicates_suppressed_total counter$/m);
        assert.match(text, /^conveyor_duplicates_suppressed_total 1$/m);
        for (const c of COUNTERS) assert.match(text, new RegExp(`^conveyor_${c} \\d+$`, 'm'));
        assert.match(text, /^conveyor_workers 1$/m);
        assert.match(text, /^conveyor_worker_active_jobs\{worker="w9"\} 0$/m);

        await s.app.purge('math');
        const after = (await s.server.inject({ method: 'GET', url: '/metrics' })).body;
        assert.doesNotMatch(after, /queue="math"/, 'a queue without jobs drops out');
      } finally {
        await s.close();
      }
    });

    it('an unknown route answers 404 in the error shape', async () => {
      const s = await serve(engine.world());
      try {
        const r = await s.api('GET', '/api/nothing');
        assert.deepEqual([r.status, r.body.error.code], [404, 'NOT_FOUND']);
      } finally {
        await s.close();
      }
    });
  });
}
