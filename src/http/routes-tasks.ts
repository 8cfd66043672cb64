/** `/api/tasks`: send a task, read a job, list jobs, retry and revoke. */
import type { FastifyInstance } from 'fastify';
import type { Duration } from '../duration.js';
import type { ApplyOptions } from '../canvas.js';
import { retryAnswerText } from '../retry.js';
import type { ArgsSchema, Task } from '../task.js';
import { badInput, conflict, HttpError, notFound, parseInput } from './errors.js';
import { ListQuerySchema, RevokeBodySchema, SendBodySchema, type SendBody } from './schemas.js';
import type { ApiContext } from './services.js';
import { taskDetail, taskSummary } from './task-views.js';

/** A task's args schema (`argsSchema` in its options), if it declares one. */
function argsSchemaOf(task: Task<never[], unknown>): ArgsSchema | undefined {
  return task.options.argsSchema;
}

function applyOptions(options: SendBody['options']): ApplyOptions {
  if (!options) return {};
  const { countdown, expires, idempotencyTtl, ...rest } = options;
  return {
    ...rest,
    ...(countdown !== undefined ? { countdown: countdown as Duration } : {}),
    ...(expires !== undefined ? { expires: expires as Duration } : {}),
    ...(idempotencyTtl !== undefined ? { idempotencyTtl: idempotencyTtl as Duration } : {}),
  };
}

/** Paging cursors are opaque to clients; today they hold an offset. */
const encodeCursor = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new HttpError(400, 'BAD_REQUEST', 'cursor: not a cursor this server gave out (pass back nextCursor as it is)', 'cursor');
  return Number(m[1]);
}

export function registerTaskRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const { app, services } = ctx;

  fastify.post('/api/tasks/:name', { bodyLimit: ctx.bodyLimit }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const body = parseInput(SendBodySchema, request.body ?? {});
    const task = app.tasks.get(name);
    if (!task && (ctx.unknownTasks ?? (app.tasks.size > 0 ? 'reject' : 'send')) === 'reject') throw notFound(`task "${name}" is not registered in this app`);
    const schema = task && argsSchemaOf(task);
    if (schema) {
      const checked = schema.safeParse(body.args);
      if (!checked.success) throw badInput(checked.error?.issues ?? [{ path: [], message: 'does not match the task\'s args schema' }], ['args']);
    }
    const result = await app.send(name, body.args, applyOptions(body.options));
    return reply.code(202).send({ taskId: result.id, statusUrl: `${ctx.prefix}/api/tasks/${encodeURIComponent(result.id)}`, duplicate: result.duplicate });
  });

  fastify.get('/api/tasks/:id', async (request) => {
    const { id } = request.params as { id: string };
    const job = await app.store.jobGet(id);
    if (!job) throw notFound(`no job with id "${id}" (never sent, or its result expired)`);
    services.events.watch([job]);
    return taskDetail(job, await app.store.jobSteps(id));
  });

  fastify.get('/api/tasks', async (request) => {
    const query = parseInput(ListQuerySchema, request.query);
    const offset = decodeCursor(query.cursor);
    const jobs = await app.store.jobsList({
      states: query.state, queue: query.queue, task: query.task, limit: query.limit + 1, offset, newestFirst: true,
    });
    const page = jobs.slice(0, query.limit);
    services.events.watch(page);
    return { tasks: page.map(taskSummary), nextCursor: jobs.length > query.limit ? encodeCursor(offset + query.limit) : null };
  });

  fastify.post('/api/tasks/:id/retry', async (request) => {
    const { id } = request.params as { id: string };
    const outcome = await app.retry(id);
    if (outcome === 'missing') throw notFound(`no job with id "${id}"`);
    if (outcome !== 'retried') throw conflict(retryAnswerText(`job "${id}"`, outcome));
    return { result: 'retried' };
  });

  fastify.post('/api/tasks/:id/revoke', { bodyLimit: 64 * 1024 }, async (request) => {
    const { id } = request.params as { id: string };
    const body = parseInput(RevokeBodySchema, request.body ?? {});
    const outcome = await app.revoke(id, { terminate: body.terminate, reason: body.reason });
    if (outcome === 'missing') throw notFound(`no job with id "${id}"`);
    if (outcome === 'final') throw conflict(`job "${id}" has already finished`);
    return { result: 'revoked' };
  });
}
