/** `/api/queues`: counts per queue and state, and purging a queue's waiting jobs. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './services.js';
import { queueViews } from './snapshot.js';

export function registerQueueRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const { app } = ctx;

  fastify.get('/api/queues', async () => ({ queues: queueViews(await app.store.queueStats(), app.now()) }));

  fastify.delete('/api/queues/:name/jobs', async (request) => {
    const { name } = request.params as { name: string };
    return { purged: await app.purge(name) };
  });
}
