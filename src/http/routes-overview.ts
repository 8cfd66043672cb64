/** `/api/workers`, `/api/counters`, `/api/throughput`: what the whole store is doing. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './services.js';

export function registerOverviewRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  const { app, services } = ctx;

  fastify.get('/api/workers', async () => ({ workers: await app.store.workersList() }));

  fastify.get('/api/counters', async () => app.counters());

  fastify.get('/api/throughput', async () => services.throughput.view());
}
