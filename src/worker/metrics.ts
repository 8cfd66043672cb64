/**
 * Prometheus metrics of a worker process (prom-client), and the `/metrics` endpoint that serves
 * them (`conveyor worker --metrics-port 9464`).
 *
 * Metrics (prefix `conveyor_worker_`):
 * - jobs_settled_total{task,outcome}   deliveries settled: succeeded, failed, retried, released, lost
 * - job_run_seconds{task}              time from a job's start in this worker to its handler's end
 * - lease_losses_total{task,reason}    outcomes refused because the lease was gone: stale, revoked, final, missing
 * - jobs_running                       jobs this process holds now (read at scrape time)
 * - event_loop_blocked_seconds{task}   blocks of an inline worker's event loop past its threshold,
 *                                      by the task that blocked it ('' when not known)
 * - pool_children                      children of thread and process pools now (read at scrape time)
 * - pool_children_recycled_total       children replaced after their task or memory limit
 * - pool_children_crashed_total        children that died running a job, or were stopped by a
 *                                      time limit or a revoke
 *
 * The hot path (one settled job) costs a map lookup, a counter increment and a histogram
 * observation: label children are bound once per task and outcome, not hashed per job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Counter, Histogram, Registry } from 'prom-client';
import type { LossReason, WorkerPoolInfo } from '../store/store.js';

/**
 * prom-client, loaded by the first WorkerMetrics rather than with the package: loading it (like
 * croner, see scheduler/schedule.ts) made every worker process spend about 3x as long in garbage
 * collection (measured with `node dist/bench/sqlite.js --only process.c10.p1 --cpu-prof-dir`),
 * metrics or not.
 */
let promClient: typeof import('prom-client') | undefined;
const prom = (): typeof import('prom-client') => (promClient ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client'));

/** How a delivery ended, as the worker counts it. */
export type SettleOutcome = 'succeeded' | 'failed' | 'retried' | 'released' | 'lost';

/** Options of {@link WorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** Where to register the metrics. @default a registry of their own */
  registry?: Registry;
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag, GC). @default false */
  processMetrics?: boolean;
  /**
   * Buckets of `job_run_seconds`, in seconds.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
   */
  buckets?: number[];
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What the gauges read at scrape time: a worker's held jobs and its pool. */
interface Tracked {
  readonly active: number;
  poolInfo(): WorkerPoolInfo;
}

/** The metrics of the workers of one process; pass it to each `new Worker(app, { metrics })`. */
export class WorkerMetrics {
  readonly registry: Registry;
  readonly #settled: Counter<'task' | 'outcome'>;
  readonly #runSeconds: Histogram<'task'>;
  readonly #leaseLosses: Counter<'task' | 'reason'>;
  readonly #blocked: Histogram<'task'>;
  readonly #workers = new Set<Tracked>();
  /** Bound label children by `task\0outcome`, so a settled job does not hash its labels. */
  readonly #bound = new Map<string, { settled: Counter.Internal; run: Histogram.Internal<'task'> }>();

  constructor(options: WorkerMetricsOptions = {}) {
    const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = prom();
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    this.#settled = new Counter({ name: 'conveyor_worker_jobs_settled_total', help: 'Job deliveries settled by this worker process, by task and outcome', labelNames: ['task', 'outcome'], registers });
    this.#runSeconds = new Histogram({ name: 'conveyor_worker_job_run_seconds', help: 'Run time of job deliveries in this worker process, from start to the end of the handler', labelNames: ['task'], buckets: options.buckets ?? DEFAULT_BUCKETS, registers });
    this.#leaseLosses = new Counter({ name: 'conveyor_worker_lease_losses_total', help: 'Outcomes refused because the delivery had lost its lease (stale, revoked, final, missing)', labelNames: ['task', 'reason'], registers });
    this.#blocked = new Histogram({ name: 'conveyor_worker_event_loop_blocked_seconds', help: 'Blocks of an inline worker\'s event loop past its threshold, by the task that blocked it (empty when not known)', labelNames: ['task'], buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 300], registers });
    const workers = this.#workers;
    const pools = (): WorkerPoolInfo[] => [...workers].map((w) => w.poolInfo());
    new Gauge({ name: 'conveyor_worker_pool_children', help: 'Children (threads or processes) of this process\'s worker pools', registers, collect() { this.set(pools().reduce((n, p) => n + p.children.length, 0)); } });
    for (const [name, help, field] of [
      ['conveyor_worker_pool_children_recycled_total', 'Pool children replaced after their task or memory limit', 'recycled'],
      ['conveyor_worker_pool_children_crashed_total', 'Pool children that died running a job, or were stopped by a time limit or a revoke', 'crashed'],
    ] as const) {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(pools().reduce((n, p) => n + p[field], 0)); } });
    }
    new Gauge({
      name: 'conveyor_worker_jobs_running', help: 'Jobs this worker process holds now', registers,
      collect() {
        let n = 0;
        for (const w of workers) n += w.active;
        this.set(n);
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'conveyor_worker_' });
  }

  /** Count a worker's held jobs in `jobs_running` until the returned function is called. */
  track(worker: Tracked): () => void {
    this.#workers.add(worker);
    return () => void this.#workers.delete(worker);
  }

  /**
   * A delivery was settled. `seconds` is its run time (null when unknown: released at shutdown);
   * `lost` says why the outcome was refused when `outcome` is 'lost'.
   */
  jobSettled(task: string, outcome: SettleOutcome, seconds: number | null, lost?: LossReason): void {
    const key = `${task}\0${outcome}`;
    let bound = this.#bound.get(key);
    if (!bound) {
      bound = { settled: this.#settled.labels(task, outcome), run: this.#runSeconds.labels(task) };
      this.#bound.set(key, bound);
    }
    bound.settled.inc();
    if (seconds !== null) bound.run.observe(seconds);
    if (outcome === 'lost') this.#leaseLosses.labels(task, lost ?? 'stale').inc();
  }

  /** The event loop was blocked for `seconds` by a job of `task` ('' when not known). */
  loopBlocked(task: string, seconds: number): void {
    this.#blocked.labels(task).observe(seconds);
  }

  /** The metrics in Prometheus' text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves `GET /metrics` of a registry over HTTP (node:http): start(), stop(). */
export class MetricsServer {
  #server: Server | undefined;

  constructor(readonly registry: Registry, readonly options: { port: number; host?: string }) {}

  /** Listen; answers the port (useful with port 0). */
  async start(): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    server.unref(); // a metrics endpoint must not keep the process alive by itself
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
