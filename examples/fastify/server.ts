// server.ts — a Fastify app that sends work to Conveyor and answers 202 at once.
import Fastify from 'fastify';
import { app, sendWelcome } from './tasks.js';

export function buildServer() {
  const server = Fastify();

  server.post<{ Body: { email: string; name: string } }>('/signup', async (request, reply) => {
    const r = await sendWelcome.delay(request.body.email, request.body.name); // returns in ~1 ms
    return reply.code(202).send({ taskId: r.id, statusUrl: `/tasks/${r.id}` });
  });

  server.get<{ Params: { id: string } }>('/tasks/:id', async (request) => {
    const info = await app.result(request.params.id).info();
    return { id: info.id, state: info.state, result: info.result, error: info.error?.message ?? null };
  });

  return server;
}

// `node dist/examples/fastify/server.js` starts it; tests import buildServer instead.
if (import.meta.url === `file://${process.argv[1]}`) {
  await buildServer().listen({ port: Number(process.env.PORT ?? 3000) });
}
