/** `GET /openapi.json` and `GET /metrics`: the API describing itself, and Prometheus. */
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from './openapi.js';
import type { ApiContext } from './services.js';

export function registerMetaRoutes(fastify: FastifyInstance, ctx: ApiContext, secured: boolean): void {
  const document = openApiDocument({ prefix: ctx.prefix, secured });
  fastify.get('/openapi.json', async () => document);

  fastify.get('/metrics', async (_request, reply) => {
    const text = await ctx.services.metrics.render();
    return reply.type(ctx.services.metrics.contentType).send(text);
  });
}
