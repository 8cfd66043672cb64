/**
 * `conveyor/http`: the REST API, dashboard and /metrics, to run (`startServer`) or to mount in
 * your own server: a Fastify plugin (`conveyorRoutes`) or a Node request listener for Express
 * and `http.createServer` (`createRequestListener`). A subpath of its own so that apps which
 * only send and run tasks never load Fastify.
 * @example
 * import { conveyorRoutes } from 'conveyor/http';
 * await fastify.register(conveyorRoutes, { app, prefix: '/conveyor', token: process.env.CONVEYOR_TOKEN });
 */
export {
  buildServer, startServer, conveyorRoutes, createRequestListener,
  type BuildServerOptions, type StartServerOptions, type ConveyorRequestListener, type ConveyorRoutesOptions,
} from './server.js';
