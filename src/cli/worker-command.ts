/** `conveyor worker`: run a worker process until a signal stops it. */
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { toMs } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { Beat } from '../scheduler/beat.js';
import { POOL_KINDS, type PoolKind } from '../runtime/runner.js';
import { MetricsServer, WorkerMetrics } from '../worker/metrics.js';
import { Worker } from '../worker/worker.js';
import { resolveApp, type StoreFlags } from './load-app.js';
import { VERSION } from './version.js';

export interface WorkerFlags extends StoreFlags {
  queues?: string;
  concurrency: string;
  pool: string;
  maxTasksPerChild?: string;
  maxMemoryPerChild?: string;
  lease: string;
  shutdownGrace: string;
  loglevel: string;
  logFormat?: string;
  /** Run the beat loop (app.schedule) in this process too. */
  beat?: boolean;
  /** Serve Prometheus metrics on this port at /metrics. */
  metricsPort?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export async function workerCommand(flags: WorkerFlags): Promise<void> {
  if (!flags.app) throw new InvalidArgumentError('worker needs --app <module>: the module that exports your Conveyor app and its tasks');
  const level = flags.loglevel.toLowerCase();
  if (!LEVELS.includes(level)) throw new InvalidArgumentError(`--loglevel must be one of ${LEVELS.join(', ')}, got "${flags.loglevel}"`);
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError(`--concurrency must be an integer >= 1, got "${flags.concurrency}"`);
  const pool = flags.pool as PoolKind;
  if (!POOL_KINDS.includes(pool)) throw new InvalidArgumentError(`--pool must be one of ${POOL_KINDS.join(', ')}, got "${flags.pool}"`);
  const maxTasksPerChild = positiveInteger(flags.maxTasksPerChild, '--max-tasks-per-child');
  const maxMemoryPerChild = positiveInteger(flags.maxMemoryPerChild, '--max-memory-per-child');
  const app = await resolveApp(flags);
  const queues = flags.queues?.split(',').map((q) => q.trim()).filter(Boolean);
  const metricsPort = flags.metricsPort === undefined ? undefined : Number(flags.metricsPort);
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)) throw new InvalidArgumentError(`--metrics-port must be a port number (0-65535), got "${flags.metricsPort}"`);
  const metrics = metricsPort === undefined ? undefined : new WorkerMetrics({ processMetrics: true });
  const worker = new Worker(app, {
    metrics,
    queues,
    concurrency,
    pool,
    appModule: flags.app,
    maxTasksPerChild,
    maxMemoryPerChild,
    lease: toMs(flags.lease, '--lease'),
    shutdownGrace: toMs(flags.shutdownGrace, '--shutdown-grace'),
    logger: workerLogger(level, flags.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json')),
  });
  const beat = flags.beat ? new Beat(app, { logger: worker.logger }) : undefined;
  const metricsServer = metrics && new MetricsServer(metrics.registry, { port: metricsPort! });
  const metricsAt = metricsServer && (await metricsServer.start());
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${signal} again: cold shutdown, exiting now (running jobs return after their lease)\n`);
      process.exit(130);
    }
    process.stderr.write(`${signal}: warm shutdown; running jobs finish (or are released after the grace period). ${signal} again to exit now.\n`);
    void Promise.all([worker.stop(), beat?.stop(), metricsServer?.stop()]).then(() => app.close()).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The banner says the worker is up: print it only once a signal would stop it gracefully,
  // and the pool's children have loaded the app.
  await worker.start();
  process.stdout.write(banner(worker, app.store.description, [...app.tasks.keys()]));
  if (metricsAt !== undefined) process.stdout.write(` [metrics] http://localhost:${metricsAt}/metrics\n\n`);
  if (beat) process.stdout.write(` [beat] ${app.schedules.size} schedule(s): ${[...app.schedules.values()].map((s) => `${s.name} (${s.describe()})`).join(', ') || 'none registered'}\n\n`);
  beat?.start();
}

/** Lines for people (`pretty`, the default on a terminal) or JSON lines for log shippers. */
export function workerLogger(level: string, format: string): Logger {
  if (format === 'json') return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
  if (format !== 'pretty') throw new InvalidArgumentError(`--log-format must be pretty or json, got "${format}"`);
  return pino({ level, base: undefined }, PinoPretty({ destination: 2, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'job,jobs', singleLine: true }));
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be an integer >= 1, got "${value}"`);
  return n;
}

function poolText(worker: Worker): string {
  const info = worker.poolInfo();
  if (info.kind === 'inline') return 'inline: on the event loop';
  return `${info.kind}: ${info.children.length} ${info.kind}, ${info.kind === 'threads' ? 'thread ids' : 'pids'} ${info.children.map((c) => c.pid).join(', ')}`;
}

function banner(worker: Worker, store: string, tasks: string[]): string {
  const lines = [
    '',
    ` -------------- conveyor@${VERSION} worker ${worker.id}`,
    ` ---- ****  --- store:       ${store}`,
    ` --- *    *  -- queues:      ${worker.queues.join(', ')}`,
    ` ---- ****  --- concurrency: ${worker.concurrency} (${poolText(worker)})`,
    ` -------------- lease:       ${worker.leaseMs / 1000}s, renewed from the ${worker.leasesRenewedFrom}`,
    '',
    ' [tasks]',
    ...(tasks.length ? tasks.sort().map((t) => `   . ${t}`) : ['   (none registered)']),
    '',
    '',
  ];
  return lines.join('\n');
}
