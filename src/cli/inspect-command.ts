/** `conveyor inspect registered|active|scheduled|failed|stats|counters|workers`: what the store and app hold. */
import type { Conveyor } from '../app.js';
import { InvalidArgumentError } from '../errors.js';
import type { JobRecord, WorkerPoolInfo } from '../store/store.js';
import { JOB_STATES } from '../states.js';
import { printJson, table, when } from './format.js';
import { withApp, type StoreFlags } from './load-app.js';

export const INSPECT_VIEWS = ['registered', 'active', 'scheduled', 'failed', 'stats', 'counters', 'workers'] as const;
type View = (typeof INSPECT_VIEWS)[number];

export interface InspectFlags extends StoreFlags {
  json?: boolean;
  limit: string;
  queue?: string;
}

const publicJob = (j: JobRecord) => ({
  id: j.id, task: j.task, queue: j.queue, state: j.state, args: JSON.parse(j.argsJson) as unknown, attempts: j.attempt,
  deliveries: j.deliveries, worker: j.worker, runAt: new Date(j.runAt), startedAt: j.startedAt && new Date(j.startedAt),
  finishedAt: j.finishedAt && new Date(j.finishedAt), leaseExpiresAt: j.leaseExpiresAt && new Date(j.leaseExpiresAt), error: j.error,
});

type Rendered = { json: unknown; text: string };

async function render(view: View, app: Conveyor, flags: InspectFlags, limit: number): Promise<Rendered> {
  const store = app.store;
  const queue = flags.queue;
  switch (view) {
    case 'registered': {
      if (!flags.app) throw new InvalidArgumentError('inspect registered needs --app <module>: the tasks are those the app registers');
      const tasks = [...app.tasks.values()].map((t) => ({
        name: t.name, queue: t.options.job.queue, priority: t.options.job.priority, retries: t.options.autoRetry ? t.options.retry.max : 0,
        timeLimitMs: t.options.timeLimitMs ?? null, maxDeliveries: t.options.job.maxDeliveries,
      }));
      return { json: tasks, text: table(['task', 'queue', 'priority', 'auto-retries', 'time limit', 'max deliveries'], tasks.map((t) => [t.name, t.queue, t.priority, t.retries, t.timeLimitMs === null ? '-' : `${t.timeLimitMs} ms`, t.maxDeliveries])) };
    }
    case 'active': {
      const jobs = await store.jobsList({ states: ['STARTED'], queue, limit });
      return { json: jobs.map(publicJob), text: table(['id', 'task', 'queue', 'worker', 'started', 'lease until', 'attempt'], jobs.map((j) => [j.id, j.task, j.queue, j.worker ?? '-', when(j.startedAt), when(j.leaseExpiresAt), j.attempt])) };
    }
    case 'scheduled': {
      const jobs = await store.jobsList({ states: ['PENDING', 'RETRY'], queue, runAfter: app.now(), limit });
      return { json: jobs.map(publicJob), text: table(['id', 'task', 'queue', 'state', 'run at', 'attempt'], jobs.map((j) => [j.id, j.task, j.queue, j.state, when(j.runAt), j.attempt])) };
    }
    case 'failed': {
      const jobs = await store.jobsList({ states: ['FAILURE'], queue, limit });
      return { json: jobs.map(publicJob), text: table(['id', 'task', 'queue', 'finished', 'attempts', 'error'], jobs.map((j) => [j.id, j.task, j.queue, when(j.finishedAt), j.attempt, `${j.error?.type}: ${j.error?.message}`.slice(0, 80)])) };
    }
    case 'stats': {
      const stats = (await store.queueStats()).filter((s) => !queue || s.queue === queue);
      return { json: stats, text: table(['queue', ...JOB_STATES], stats.map((s) => [s.queue, ...JOB_STATES.map((st) => s.counts[st])])) };
    }
    case 'counters': {
      const counters = await store.countersGet();
      return { json: counters, text: table(['counter', 'value'], Object.entries(counters).map(([name, value]) => [name, value])) };
    }
    case 'workers': {
      const workers = (await store.workersList()).filter((w) => !queue || w.queues.includes(queue));
      const counts = (c: Record<string, number>) => ['succeeded', 'failed', 'retried', 'lost'].map((k) => `${k[0]}:${c[k] ?? 0}`).join(' ');
      return { json: workers, text: table(['worker', 'host', 'pid', 'queues', 'pool', 'running', 'settled', 'started', 'last seen'], workers.map((w) => [w.id, w.hostname, w.pid, w.queues.join(','), poolCell(w.pool), `${w.active.length}/${w.concurrency}`, counts(w.counts), when(w.startedAt), when(w.lastSeenAt)])) };
    }
  }
}

export async function inspectCommand(view: string, flags: InspectFlags): Promise<number> {
  if (!(INSPECT_VIEWS as readonly string[]).includes(view)) throw new InvalidArgumentError(`inspect: unknown view "${view}": use one of ${INSPECT_VIEWS.join(', ')}`);
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`--limit must be an integer >= 1, got "${flags.limit}"`);
  return withApp(flags, async (app) => {
    const out = await render(view as View, app, flags, limit);
    if (flags.json) printJson(out.json);
    else process.stdout.write(`${out.text}\n`);
    return 0;
  });
}

/** A worker's pool in one cell: its kind, then each child (pid: current task), recycled and crashed counts. */
function poolCell(pool: WorkerPoolInfo | undefined): string {
  if (!pool) return '-';
  if (pool.kind === 'inline') return pool.blocked?.count ? `inline (loop blocked ${pool.blocked.count}x, ${pool.blocked.seconds.toFixed(1)}s)` : 'inline';
  const children = pool.children.map((c) => `${c.pid}:${c.job ? c.job.task : 'idle'}`).join(' ');
  return `${pool.kind} [${children}] recycled ${pool.recycled}, crashed ${pool.crashed}`;
}
