/**
 * The HTTP API and dashboard, three ways:
 *
 * - `buildServer({ app, token })`    a Fastify instance of its own (what `conveyor serve` runs);
 * - `conveyorRoutes`                  a Fastify plugin to `register` in your own Fastify app, under a prefix;
 * - `createRequestListener(app, …)`   a Node `(req, res)` listener for Express, Koa or `http.createServer`.
 *
 * Every way serves the same routes (docs/http-api.md), with the same auth and error shapes, and
 * runs the same background parts (throughput sampling, live events) from ready to close.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Conveyor } from '../app.js';
import { registerDashboard } from './dashboard/routes.js';
import { assertSafeBind, requireToken } from './auth.js';
import { handleError, notFound, sendError } from './errors.js';
import { registerEventRoutes } from './routes-events.js';
import { registerMetaRoutes } from './routes-meta.js';
import { registerOverviewRoutes } from './routes-overview.js';
import { registerQueueRoutes } from './routes-queues.js';
import { registerTaskRoutes } from './routes-tasks.js';
import { createServices, DEFAULT_BODY_LIMIT, type ApiContext, type ApiServices, type ConveyorRoutesOptions } from './services.js';

export { DEFAULT_BODY_LIMIT, type ApiServices, type ConveyorRoutesOptions } from './services.js';
export { assertSafeBind, isLoopback } from './auth.js';

/** Options of the plugin as registered by this module (with services built beforehand). */
interface PluginOptions extends ConveyorRoutesOptions {
  /** @internal Services built by `buildServer`, so it can hand them to tests. */
  services?: ApiServices;
}

/**
 * The API routes, auth and error shapes, as a Fastify plugin. Its background parts start when
 * your server is ready and stop when it closes.
 * @example
 * const server = Fastify();
 * await server.register(conveyorRoutes, { app, prefix: '/conveyor', token: process.env.CONVEYOR_TOKEN });
 */
export const conveyorRoutes: FastifyPluginAsync<PluginOptions> = async (fastify, options) => {
  const services = options.services ?? createServices(options);
  const ctx: ApiContext = {
    app: options.app,
    services,
    prefix: fastify.prefix === '/' ? '' : fastify.prefix,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    unknownTasks: options.unknownTasks,
  };

  // A POST with a JSON content type and no body (a retry from `fetch`) is a request without a body, not an error.
  const json = fastify.getDefaultJsonParser('error', 'ignore');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else json(request, body as string, done);
  });
  fastify.setErrorHandler(handleError);
  if (options.token) {
    const assets = `${ctx.prefix}/assets/`;
    fastify.addHook('onRequest', requireToken(options.token, (path) => path.startsWith(assets)));
  }

  registerTaskRoutes(fastify, ctx);
  registerQueueRoutes(fastify, ctx);
  registerOverviewRoutes(fastify, ctx);
  registerEventRoutes(fastify, ctx);
  registerMetaRoutes(fastify, ctx, Boolean(options.token));
  if (options.dashboard !== false) registerDashboard(fastify);

  fastify.addHook('onReady', async () => services.start());
  // preClose, not onClose: open event streams must end before the server can stop listening.
  fastify.addHook('preClose', async () => services.stop());
};

const servicesByServer = new WeakMap<FastifyInstance, ApiServices>();

/** The background parts of a server made by `buildServer` (tests drive them with `runOnce()`). */
export function apiServices(fastify: FastifyInstance): ApiServices | undefined {
  return servicesByServer.get(fastify);
}

/** Options of {@link buildServer}. */
export interface BuildServerOptions extends ConveyorRoutesOptions {
  /** Serve everything under this path, e.g. '/conveyor'. @default '' */
  prefix?: string;
  /** Where Fastify logs (failed requests). @default the app's logger */
  logger?: FastifyBaseLogger;
}

/**
 * A Fastify server with the API, the dashboard and `/metrics`. Call `listen()` on it yourself,
 * or use {@link startServer}, which also refuses an unsafe bind.
 * @example
 * const server = await buildServer({ app, token: 's3cret' });
 * await server.listen({ host: '127.0.0.1', port: 5555 });
 */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const { prefix = '', logger, ...routes } = options;
  const fastify = Fastify({
    loggerInstance: logger ?? options.app.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // The routes set their own limits; this bounds everything else.
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    forceCloseConnections: true,
  }) as unknown as FastifyInstance;
  const services = createServices(routes);
  servicesByServer.set(fastify, services);
  fastify.setErrorHandler(handleError);
  fastify.setNotFoundHandler((request, reply) => sendError(reply, notFound(`no route ${request.method} ${request.url.split('?', 1)[0]}`)));
  await fastify.register(conveyorRoutes, { ...routes, services, prefix });
  return fastify;
}

/** Options of {@link startServer}. */
export interface StartServerOptions extends BuildServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 5555 */
  port?: number;
}

/**
 * Build a server and listen. Refuses to start on a non-loopback host without a token.
 * @returns the server and the URL it serves (with the port it got).
 */
export async function startServer(options: StartServerOptions): Promise<{ server: FastifyInstance; url: string }> {
  const { host = '127.0.0.1', port = 5555, ...rest } = options;
  assertSafeBind(host, options.token);
  const server = await buildServer(rest);
  await server.listen({ host, port });
  const address = server.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { server, url: `http://${shownHost}:${actualPort}${options.prefix ?? ''}/` };
}

/** A Node request listener serving the API, with its server's lifecycle. */
export interface ConveyorRequestListener extends RequestListener {
  /** The inner Fastify instance. */
  readonly fastify: FastifyInstance;
  /** Resolves once the routes are ready (the first request waits for it anyway). */
  ready(): Promise<void>;
  /** Stop the background parts and end open event streams. */
  close(): Promise<void>;
}

/**
 * The API as a plain `(req, res)` listener, for Express, Koa or `http.createServer`. Routes are
 * served under `prefix`: mount the listener where requests keep that prefix in their URL (under
 * Express, `app.use('/conveyor', listener)` works too: the listener reads `req.originalUrl`).
 * @example
 * const conveyor = createRequestListener(app, { prefix: '/conveyor', token: process.env.CONVEYOR_TOKEN });
 * http.createServer((req, res) => req.url?.startsWith('/conveyor') ? conveyor(req, res) : other(req, res));
 */
export function createRequestListener(app: Conveyor, options: Omit<BuildServerOptions, 'app'> = {}): ConveyorRequestListener {
  let fastify: FastifyInstance | undefined;
  let ready: Promise<FastifyInstance> | undefined;
  const start = () => (ready ??= buildServer({ ...options, app }).then(async (f) => {
    fastify = f;
    await f.ready();
    return f;
  }));
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    // Express strips its mount path from req.url and keeps the full one in req.originalUrl.
    const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
    if (typeof original === 'string') req.url = original;
    start().then((f) => f.routing(req, res), (err: unknown) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: `the Conveyor API failed to start: ${(err as Error).message}` } }));
    });
  };
  Object.defineProperty(listener, 'fastify', {
    get(): FastifyInstance {
      if (!fastify) throw new Error('createRequestListener: the server is not built yet; await listener.ready() first');
      return fastify;
    },
  });
  return Object.assign(listener as typeof listener & { readonly fastify: FastifyInstance }, {
    ready: async () => void (await start()),
    close: async () => {
      if (ready) await (await ready).close();
    },
  });
}
