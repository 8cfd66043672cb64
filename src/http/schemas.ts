/**
 * The shapes of the HTTP API (docs/http-api.md), as zod schemas: requests are parsed with them,
 * and the OpenAPI document is generated from them, so the two cannot drift apart.
 *
 * Request schemas are strict (an unknown option is a 400 naming it, not silently ignored).
 * Response schemas describe what the routes send; they are documentation, not checked at run time.
 */
import { z } from 'zod';
import { toMs } from '../duration.js';
import { COUNTERS } from '../store/store.js';
import { JOB_STATES } from '../states.js';

/** The component schemas of the OpenAPI document, by id. */
export const apiRegistry = z.registry<{ id: string; description?: string }>();

function component<T extends z.ZodType>(id: string, description: string, schema: T): T {
  apiRegistry.add(schema, { id, description });
  return schema;
}

const isDuration = (value: string) => {
  try {
    toMs(value, 'duration');
    return true;
  } catch {
    return false;
  }
};

const duration = z.union([
  z.number().nonnegative(),
  z.string().refine(isDuration, { message: "a duration: milliseconds, or a string like '500ms', '30s', '10m', '1h', '2d'" }),
]);
const instant = z.union([
  z.number().int(),
  z.string().refine((s) => Number.isFinite(Date.parse(s)), { message: 'an ISO 8601 time (or epoch ms as a number)' }),
]);
const epochMs = z.number().int();
const nullableMs = epochMs.nullable();

export const JobStateSchema = component('JobState', 'A job state (docs/state-machine.md).', z.enum(JOB_STATES));

// ---- requests ----

export const SendOptionsSchema = component('SendOptions', 'Per-call options of a send (ApplyOptions).', z.strictObject({
  countdown: duration.optional().describe('start no sooner than this long from now'),
  eta: instant.optional().describe('start no sooner than this time'),
  expires: duration.optional().describe('revoke the job instead of starting it after this long from now'),
  queue: z.string().min(1).optional(),
  priority: z.number().int().optional().describe('higher runs first'),
  taskId: z.string().min(1).max(1024).optional().describe('use this id instead of a random UUID (resending it creates nothing)'),
  idempotencyKey: z.string().min(1).max(1024).optional(),
  idempotencyTtl: duration.optional(),
}).refine((o) => o.countdown === undefined || o.eta === undefined, { message: 'pass countdown or eta, not both', path: ['eta'] }));

export const SendBodySchema = component('SendBody', 'The body of POST /api/tasks/{name}.', z.strictObject({
  args: z.array(z.unknown()).default([]).describe("the task's arguments, JSON"),
  options: SendOptionsSchema.optional(),
}));

export const RevokeBodySchema = component('RevokeBody', 'The body of POST /api/tasks/{id}/revoke (optional).', z.strictObject({
  terminate: z.boolean().optional().describe("also abort the running handler's ctx.signal"),
  reason: z.string().max(1000).optional(),
}));

export const MAX_LIST_LIMIT = 500;

export const ListQuerySchema = z.strictObject({
  state: z.string().optional().transform((s, ctx) => {
    if (s === undefined || s === '') return undefined;
    const states = s.split(',').map((x) => x.trim().toUpperCase());
    const bad = states.find((x) => !(JOB_STATES as readonly string[]).includes(x));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown state "${bad}": use ${JOB_STATES.join(', ')} (comma-separated)` });
      return z.NEVER;
    }
    return states as (typeof JOB_STATES)[number][];
  }),
  queue: z.string().min(1).optional(),
  task: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(50),
  cursor: z.string().optional(),
  token: z.string().optional(),
});

// ---- responses ----

export const ErrorSchema = component('Error', 'Every error answer.', z.object({
  error: z.object({
    code: z.enum(['NOT_FOUND', 'BAD_REQUEST', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'CONFLICT', 'STORE_UNAVAILABLE', 'INTERNAL']),
    message: z.string(),
    field: z.string().optional().describe('the offending input, e.g. args[0] or options.priority'),
  }),
}));

export const SendResultSchema = component('SendResult', 'A sent task.', z.object({
  taskId: z.string(),
  statusUrl: z.string(),
  duplicate: z.boolean().describe('true when nothing was created: the id or idempotency key was already held, and taskId is that job'),
}));

export const ErrorInfoSchema = component('ErrorInfo', 'A stored error.', z.object({
  type: z.string(), message: z.string(), stack: z.string().optional(), code: z.string().optional(),
}));

export const ProgressSchema = component('Progress', 'What ctx.progress last reported.', z.object({
  fraction: z.number().min(0).max(1), info: z.unknown(), at: epochMs,
}));

export const TaskSummarySchema = component('TaskSummary', 'A job in a list.', z.object({
  id: z.string(),
  task: z.string(),
  queue: z.string(),
  state: JobStateSchema,
  attempts: z.number().int(),
  worker: z.string().nullable(),
  enqueuedAt: epochMs,
  startedAt: nullableMs,
  finishedAt: nullableMs,
  runtimeMs: z.number().nullable(),
  progress: ProgressSchema.nullable(),
}));

export const DeliveryRecordSchema = component('DeliveryRecord', 'An earlier delivery that did not end the job.', z.object({
  token: z.number().int(),
  attempt: z.number().int(),
  worker: z.string().nullable(),
  startedAt: nullableMs,
  endedAt: epochMs,
  outcome: z.enum(['retry', 'lost', 'released']),
  error: ErrorInfoSchema.nullable(),
}));

export const TaskDetailSchema = component('TaskDetail', 'Everything known about a job.', TaskSummarySchema.extend({
  args: z.array(z.unknown()),
  result: z.unknown(),
  error: ErrorInfoSchema.nullable(),
  priority: z.number().int(),
  deliveries: z.number().int(),
  fencingToken: z.number().int(),
  runAt: epochMs,
  expiresAt: nullableMs,
  idempotencyKey: z.string().nullable(),
  parent: z.object({ id: z.string(), task: z.string(), state: JobStateSchema }).nullable(),
  callbacks: z.array(z.object({ on: z.enum(['success', 'failure', 'final']), id: z.string(), task: z.string(), queue: z.string() })),
  chord: z.object({ index: z.number().int(), size: z.number().int(), callbackId: z.string() }).nullable(),
  history: z.array(DeliveryRecordSchema),
  steps: z.array(z.object({ name: z.string(), result: z.unknown(), token: z.number().int(), recordedAt: epochMs })),
}));

export const TaskListSchema = component('TaskList', 'A page of jobs, newest first.', z.object({
  tasks: z.array(TaskSummarySchema),
  nextCursor: z.string().nullable(),
}));

export const RetryResultSchema = component('RetryResult', 'A dead-letter retry.', z.object({ result: z.literal('retried') }));
export const RevokeResultSchema = component('RevokeResult', 'A revoke.', z.object({ result: z.literal('revoked') }));

const countsShape = Object.fromEntries(JOB_STATES.map((s) => [s, z.number().int()])) as Record<(typeof JOB_STATES)[number], z.ZodNumber>;

export const QueueSchema = component('Queue', 'Job counts of one queue, and how long its head has waited.', z.object({
  name: z.string(),
  counts: z.object(countsShape),
  nextDueAt: nullableMs.describe('run time of the job next in line, null when none is due'),
  oldestAgeMs: z.number().nullable().describe('now - nextDueAt'),
}));

export const QueueListSchema = component('QueueList', 'Every queue that has jobs.', z.object({ queues: z.array(QueueSchema) }));
export const PurgeResultSchema = component('PurgeResult', 'Waiting jobs deleted.', z.object({ purged: z.number().int() }));

export const WorkerInfoSchema = component('WorkerInfo', 'A live worker, from its heartbeat.', z.object({
  id: z.string(),
  hostname: z.string(),
  pid: z.number().int(),
  queues: z.array(z.string()),
  concurrency: z.number().int(),
  startedAt: epochMs,
  lastSeenAt: epochMs,
  active: z.array(z.object({ id: z.string(), task: z.string(), startedAt: epochMs })),
  counts: z.record(z.string(), z.number()),
  pool: z.object({
    kind: z.enum(['inline', 'threads', 'processes']).describe('where its handlers run (conveyor worker --pool)'),
    children: z.array(z.object({
      slot: z.number().int(), pid: z.number().int().describe('process id, or thread id'),
      job: z.object({ id: z.string(), task: z.string() }).nullable().describe('the job it runs now'),
      jobs: z.number().int().describe('jobs it ran since it started'), memoryMb: z.number().describe('after its last job: resident set of a process, heap of a thread'),
    })),
    recycled: z.number().int().describe('children replaced after --max-tasks-per-child or --max-memory-per-child'),
    crashed: z.number().int().describe('children that died running a job, or were stopped by a time limit or a revoke'),
    blocked: z.object({ count: z.number().int(), seconds: z.number() }).optional().describe('inline: blocks of the event loop past the threshold'),
  }).optional().describe('absent for workers older than pools'),
}));

export const WorkerListSchema = component('WorkerList', 'Workers whose heartbeat has not expired.', z.object({ workers: z.array(WorkerInfoSchema) }));

export const CountersSchema = component('Counters', 'The exactly-once counters of the whole store.',
  z.object(Object.fromEntries(COUNTERS.map((c) => [c, z.number().int()])) as Record<(typeof COUNTERS)[number], z.ZodNumber>));

export const ThroughputSchema = component('Throughput', 'Jobs finished per bucket over the last 15 minutes, sampled by the server.', z.object({
  bucketMs: z.number().int(),
  points: z.array(z.object({ at: epochMs.describe('bucket start'), succeeded: z.number().int(), failed: z.number().int() })),
}));

export const SnapshotSchema = component('Snapshot', 'The data of an SSE `snapshot` event.', z.object({
  queues: z.array(QueueSchema),
  workers: z.array(WorkerInfoSchema),
  counters: CountersSchema,
  throughput: ThroughputSchema,
}));

export const JobEventSchema = component('JobEvent', 'The data of an SSE `job` event: a state change the server saw.', z.object({
  id: z.string(), task: z.string(), queue: z.string(), state: JobStateSchema, at: epochMs,
}));

export type SendBody = z.infer<typeof SendBodySchema>;
export type TaskSummary = z.infer<typeof TaskSummarySchema>;
export type TaskDetail = z.infer<typeof TaskDetailSchema>;
export type QueueView = z.infer<typeof QueueSchema>;
export type ThroughputView = z.infer<typeof ThroughputSchema>;
export type Snapshot = z.infer<typeof SnapshotSchema>;
export type JobEvent = z.infer<typeof JobEventSchema>;
