/** `GET /api/events`: the live Server-Sent Events stream (see events.ts). */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './services.js';

export function registerEventRoutes(fastify: FastifyInstance, ctx: ApiContext): void {
  fastify.get('/api/events', async (request, reply) => {
    // The stream outlives this handler: Fastify must not answer or time it out.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (nginx) must pass events through as they come.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    request.raw.socket.setKeepAlive(true);
    try {
      await ctx.services.events.add(res);
    } catch (err) {
      request.log.warn({ err }, 'conveyor http: the first snapshot of an event stream failed');
      res.end();
    }
  });
}
