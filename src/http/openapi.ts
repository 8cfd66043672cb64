/**
 * The OpenAPI 3.1 document of the API (`GET /openapi.json`). Component schemas are generated
 * from the zod schemas the routes parse with (schemas.ts); the route table below is checked
 * against the routes Fastify actually serves by test/http/openapi.test.ts.
 */
import { z } from 'zod';
import { JOB_STATES } from '../states.js';
import {
  apiRegistry, CountersSchema, ErrorSchema, MAX_LIST_LIMIT, PurgeResultSchema, QueueListSchema, RetryResultSchema, RevokeBodySchema,
  RevokeResultSchema, SendBodySchema, SendResultSchema, TaskDetailSchema, TaskListSchema, ThroughputSchema, WorkerListSchema,
} from './schemas.js';

/** The version of the HTTP API contract (docs/http-api.md), not of the package. */
export const API_VERSION = '0.1.0';

type Method = 'get' | 'post' | 'delete';

interface Response {
  description: string;
  /** A JSON body of this schema (registered in schemas.ts), or another media type. */
  schema?: z.ZodType;
  mediaType?: 'text/plain' | 'text/event-stream' | 'text/html';
}

interface RouteDoc {
  method: Method;
  /** OpenAPI form: `/api/tasks/{id}`. */
  path: string;
  summary: string;
  query?: { name: string; description: string; schema: object }[];
  body?: { schema: z.ZodType; required: boolean };
  responses: Record<number, Response | 'error'>;
}

const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });

/** Every route of the API, the dashboard's included. */
export const ROUTES: readonly RouteDoc[] = [
  {
    method: 'post', path: '/api/tasks/{name}', summary: 'Send a task by name',
    body: { schema: SendBodySchema, required: false },
    responses: { 202: { description: 'Sent (or joined the job holding its id or idempotency key: duplicate)', schema: SendResultSchema }, 400: 'error', 404: 'error', 413: 'error' },
  },
  {
    method: 'get', path: '/api/tasks', summary: 'List jobs, newest first',
    query: [
      { name: 'state', description: `Comma-separated states (${JOB_STATES.join(', ')})`, schema: { type: 'string' } },
      { name: 'queue', description: 'Only this queue', schema: { type: 'string' } },
      { name: 'task', description: 'Only this task name', schema: { type: 'string' } },
      { name: 'limit', description: 'Jobs per page', schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 50 } },
      { name: 'cursor', description: 'nextCursor of the previous page', schema: { type: 'string' } },
    ],
    responses: { 200: { description: 'A page of jobs', schema: TaskListSchema }, 400: 'error' },
  },
  { method: 'get', path: '/api/tasks/{id}', summary: 'Everything known about a job', responses: { 200: { description: 'The job', schema: TaskDetailSchema }, 404: 'error' } },
  {
    method: 'post', path: '/api/tasks/{id}/retry', summary: 'Send a FAILURE or REVOKED job again (dead-letter retry)',
    responses: { 200: { description: 'Retried', schema: RetryResultSchema }, 404: 'error', 409: 'error' },
  },
  {
    method: 'post', path: '/api/tasks/{id}/revoke', summary: 'Cancel a job that has not finished',
    body: { schema: RevokeBodySchema, required: false },
    responses: { 200: { description: 'Revoked', schema: RevokeResultSchema }, 400: 'error', 404: 'error', 409: 'error' },
  },
  { method: 'get', path: '/api/queues', summary: 'Job counts of every queue', responses: { 200: { description: 'Queues by name', schema: QueueListSchema } } },
  { method: 'delete', path: '/api/queues/{name}/jobs', summary: "Delete a queue's waiting jobs", responses: { 200: { description: 'How many were deleted', schema: PurgeResultSchema } } },
  { method: 'get', path: '/api/workers', summary: 'Live workers', responses: { 200: { description: 'Workers by id', schema: WorkerListSchema } } },
  { method: 'get', path: '/api/counters', summary: 'The exactly-once counters', responses: { 200: { description: 'Counters', schema: CountersSchema } } },
  { method: 'get', path: '/api/throughput', summary: 'Jobs finished per 30 s over the last 15 minutes', responses: { 200: { description: 'Buckets, oldest first', schema: ThroughputSchema } } },
  {
    method: 'get', path: '/api/events', summary: 'Live events (Server-Sent Events): `snapshot` (components Snapshot) and `job` (components JobEvent)',
    responses: { 200: { description: 'An event stream', mediaType: 'text/event-stream' } },
  },
  { method: 'get', path: '/openapi.json', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', mediaType: 'text/plain' } } },
  { method: 'get', path: '/', summary: 'The dashboard', responses: { 200: { description: 'The dashboard page', mediaType: 'text/html' } } },
  {
    method: 'get', path: '/assets/{path}', summary: "The dashboard's static files (served without auth: code, no data)",
    responses: { 200: { description: 'A static file' }, 404: 'error' },
  },
];

const ref = (schema: z.ZodType) => {
  const id = apiRegistry.get(schema)?.id;
  if (!id) throw new Error('openapi: a schema used in the route table is not registered in apiRegistry');
  return { $ref: `#/components/schemas/${id}` };
};

const ERROR_TEXT: Record<number, string> = {
  400: 'Bad input: error.field names it', 401: 'No token, or a wrong one', 404: 'Not found', 409: 'Not in a state that allows it', 413: 'Body too large',
};

function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(apiRegistry, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => {
    const { $schema: _s, $id: _i, ...schema } = s as Record<string, unknown>;
    return [id, schema];
  }));
}

function operation(route: RouteDoc, secured: boolean): Record<string, unknown> {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => pathParam(m[1]!, m[1] === 'id' ? 'job id' : m[1] === 'name' ? 'task or queue name' : m[1]!));
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    if (r === 'error') {
      responses[status] = { description: ERROR_TEXT[Number(status)] ?? 'Error', content: { 'application/json': { schema: ref(ErrorSchema) } } };
    } else {
      const content = r.schema ? { 'application/json': { schema: ref(r.schema) } } : r.mediaType ? { [r.mediaType]: { schema: { type: 'string' } } } : { 'application/json': {} };
      responses[status] = { description: r.description, content };
    }
  }
  const open = route.path.startsWith('/assets/');
  if (secured && !open) responses['401'] = { description: ERROR_TEXT[401], content: { 'application/json': { schema: ref(ErrorSchema) } } };
  return {
    summary: route.summary,
    operationId: `${route.method}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    ...(params.length || route.query ? { parameters: [...params, ...(route.query ?? []).map((q) => ({ ...q, in: 'query', required: false }))] } : {}),
    ...(route.body ? { requestBody: { required: route.body.required, content: { 'application/json': { schema: ref(route.body.schema) } } } } : {}),
    responses,
    ...(open ? { security: [] } : {}),
  };
}

/**
 * The document.
 * @param prefix where the routes are mounted ('' at the root), the document's server URL.
 * @param secured whether a token is required (adds the security schemes and 401 answers).
 */
export function openApiDocument(options: { prefix: string; secured: boolean }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method] = operation(route, options.secured);
  return {
    openapi: '3.1.0',
    info: { title: 'Conveyor', version: API_VERSION, description: 'The HTTP API of a Conveyor task queue: send tasks, follow jobs, see queues, workers and the exactly-once counters.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: options.prefix || '/' }],
    paths,
    components: {
      schemas: componentSchemas(),
      ...(options.secured ? {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'GET requests only' },
        },
      } : {}),
    },
    ...(options.secured ? { security: [{ bearer: [] }, { queryToken: [] }] } : {}),
  };
}
