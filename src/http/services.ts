/**
 * What the routes share: the app, the options, and the server's background parts (throughput
 * sampler, events hub, metrics registry), each started with the server and stopped with it.
 */
import type { Conveyor } from '../app.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../message.js';
import { EventHub, type EventHubOptions } from './events.js';
import { ApiMetrics } from './metrics.js';
import { ThroughputSampler, type ThroughputOptions } from './throughput.js';

/** Options of the API routes (`conveyorRoutes`, `buildServer`, `createRequestListener`). */
export interface ConveyorRoutesOptions {
  /** The app whose store the API shows, and whose tasks it sends. */
  app: Conveyor;
  /**
   * A shared secret every request must carry: `Authorization: Bearer <token>` or, on a GET,
   * `?token=<token>`. Required to bind to a non-loopback host. @default none (no auth)
   */
  token?: string;
  /**
   * Largest request body, in bytes; larger ones get 413. @default 1 MiB + 64 KiB (the default
   * args limit of a job, plus room for the options)
   */
  bodyLimit?: number;
  /**
   * What `POST /api/tasks/:name` does with a name the app does not register: `reject` (404) or
   * `send` it anyway (a worker elsewhere may know it).
   * @default 'reject' when the app registers tasks, else 'send'
   */
  unknownTasks?: 'reject' | 'send';
  /** Serve the dashboard page at `/`. @default true */
  dashboard?: boolean;
  /** Add Node's process metrics (CPU, memory, event loop) to `/metrics`. @default false */
  processMetrics?: boolean;
  /** Throughput sampling (bucket width, window, sampling period). */
  throughput?: ThroughputOptions;
  /** Pacing of the SSE snapshots. */
  events?: EventHubOptions;
}

export const DEFAULT_BODY_LIMIT = DEFAULT_MAX_PAYLOAD_BYTES + 64 * 1024;

/** The server's background parts. */
export interface ApiServices {
  throughput: ThroughputSampler;
  events: EventHub;
  metrics: ApiMetrics;
  start(): void;
  stop(): Promise<void>;
}

export function createServices(options: ConveyorRoutesOptions): ApiServices {
  const { app } = options;
  const store = () => app.store;
  const now = () => app.now();
  const throughput = new ThroughputSampler(store, now, options.throughput);
  const events = new EventHub({ store, now, throughput, onError: (err) => app.logger.warn({ err }, 'conveyor http: reading the store for live events failed') }, options.events);
  const metrics = new ApiMetrics(store, now, { processMetrics: options.processMetrics });
  let started = false;
  return {
    throughput, events, metrics,
    start() {
      if (started) return;
      started = true;
      throughput.start();
      events.start();
    },
    async stop() {
      started = false;
      throughput.stop();
      await events.stop();
    },
  };
}

/** What each route module gets. */
export interface ApiContext {
  app: Conveyor;
  services: ApiServices;
  /** The prefix the routes are served under ('' at the root), for URLs in answers. */
  prefix: string;
  bodyLimit: number;
  /** Undefined: decided per request, by whether the app registers tasks (by then). */
  unknownTasks: 'reject' | 'send' | undefined;
}
