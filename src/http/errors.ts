/**
 * Error answers of the HTTP API: one shape, `{ error: { code, message, field? } }`, and one
 * mapping from what a route or Fastify throws to a status and a code.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { InvalidArgumentError, NotJsonError, PayloadTooLargeError, StoreUnavailableError } from '../errors.js';

export type ApiErrorCode = 'NOT_FOUND' | 'BAD_REQUEST' | 'UNAUTHORIZED' | 'PAYLOAD_TOO_LARGE' | 'CONFLICT' | 'STORE_UNAVAILABLE' | 'INTERNAL';

/** What a route throws to answer an error. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: ApiErrorCode, message: string, readonly field?: string) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', what);
export const conflict = (why: string) => new HttpError(409, 'CONFLICT', why);

/** A zod issue path as users write it: `args[0].email`, `options.priority`. */
export function fieldOf(path: readonly PropertyKey[]): string | undefined {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? undefined : out;
}

/**
 * Parse `value` with `schema`, or throw a 400 naming the first offending field.
 * @param where prefixes the field (`args` for a task's own args schema).
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: readonly PropertyKey[] = []): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw badInput(parsed.error.issues, where);
}

/** A 400 from zod-like issues (also those of a task's own schema). */
export function badInput(issues: readonly { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] }[], where: readonly PropertyKey[] = []): HttpError {
  const issue = issues[0]!;
  // An unknown key is reported on its parent; name the key itself.
  const path = issue.code === 'unrecognized_keys' && issue.keys?.length ? [...where, ...issue.path, issue.keys[0]!] : [...where, ...issue.path];
  const field = fieldOf(path);
  return new HttpError(400, 'BAD_REQUEST', field ? `${field}: ${issue.message}` : issue.message, field);
}

/** Status, code and field of anything a route (or Fastify itself) threw. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof PayloadTooLargeError) return new HttpError(413, 'PAYLOAD_TOO_LARGE', err.message, err.path);
  if (err instanceof NotJsonError) return new HttpError(400, 'BAD_REQUEST', err.message, err.path);
  if (err instanceof InvalidArgumentError) return new HttpError(400, 'BAD_REQUEST', err.message);
  if (err instanceof StoreUnavailableError) return new HttpError(503, 'STORE_UNAVAILABLE', err.message);
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) {
    return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'the request body is over the size limit: store large data elsewhere and send its key', 'body');
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpError(400, 'BAD_REQUEST', 'send the body as JSON, with content-type: application/json', 'body');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors: unparsable JSON, an empty JSON body, a bad URL.
    return new HttpError(400, 'BAD_REQUEST', fe.message ?? 'bad request', fe.code?.startsWith('FST_ERR_CTP') ? 'body' : undefined);
  }
  return new HttpError(500, 'INTERNAL', err instanceof Error ? err.message : String(err));
}

export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
  if (err.status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(err.status).send({ error: { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) } });
}

/** Fastify error handler of the API's routes. */
export function handleError(this: unknown, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const httpError = toHttpError(err);
  if (httpError.status >= 500) request.log.error({ err }, 'conveyor http: request failed');
  return sendError(reply, httpError);
}
