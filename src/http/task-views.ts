/** Jobs as the HTTP API shows them: store records turned into TaskSummary and TaskDetail. */
import type { JobProgress, JobRecord, StepRecord } from '../store/store.js';
import type { TaskDetail, TaskSummary } from './schemas.js';

const parse = (json: string | null): unknown => (json === null ? null : JSON.parse(json));

function progressView(p: JobProgress | null | undefined): TaskSummary['progress'] {
  return p ? { fraction: p.fraction, info: parse(p.infoJson), at: p.at } : null;
}

export function taskSummary(job: JobRecord): TaskSummary {
  return {
    id: job.id,
    task: job.task,
    queue: job.queue,
    state: job.state,
    attempts: job.attempt,
    worker: job.worker,
    enqueuedAt: job.enqueuedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    runtimeMs: job.finishedAt !== null && job.startedAt !== null ? job.finishedAt - job.startedAt : null,
    progress: progressView(job.progress),
  };
}

export function taskDetail(job: JobRecord, steps: readonly StepRecord[]): TaskDetail {
  return {
    ...taskSummary(job),
    args: JSON.parse(job.argsJson) as unknown[],
    result: parse(job.resultJson),
    error: job.error,
    priority: job.priority,
    deliveries: job.deliveries,
    fencingToken: job.token,
    runAt: job.runAt,
    expiresAt: job.expiresAt,
    idempotencyKey: job.idempotencyKey,
    parent: job.parent ? { id: job.parent.id, task: job.parent.task, state: job.parent.state } : null,
    callbacks: job.callbacks.map((c) => ({ on: c.on, id: c.job.id, task: c.job.task, queue: c.job.queue })),
    chord: job.chord ? { index: job.chord.index, size: job.chord.size, callbackId: job.chord.callback.id } : null,
    history: job.history ?? [],
    steps: steps.map((s) => ({ name: s.name, result: parse(s.resultJson), token: s.token, recordedAt: s.recordedAt })),
  };
}
