/**
 * Bearer-token auth of the HTTP API. One shared token: `Authorization: Bearer <token>`, or, for
 * GETs only (an EventSource or a browser page cannot set headers), `?token=<token>`.
 *
 * And the rule that keeps a tokenless server private: it may only bind to a loopback address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../errors.js';
import { HttpError, sendError } from './errors.js';

/**
 * Compare in constant time. Both sides are hashed first so their lengths match (timingSafeEqual
 * needs equal lengths) and the comparison leaks neither the token nor its length.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request carries, or undefined. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(.+)$/i.exec(header);
    return m ? m[1]!.trim() : undefined;
  }
  if (request.method === 'GET' || request.method === 'HEAD') {
    const query = request.query as Record<string, unknown> | undefined;
    if (typeof query?.token === 'string') return query.token;
  }
  return undefined;
}

/**
 * An onRequest hook answering 401 to requests without the token. Paths `open(path)` accepts
 * (the dashboard's static files) pass without it.
 */
export function requireToken(token: string, open: (path: string) => boolean = () => false) {
  return async function checkToken(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if ((request.method === 'GET' || request.method === 'HEAD') && open(request.url.split('?', 1)[0]!)) return undefined;
    const given = tokenOf(request);
    if (given !== undefined && tokensEqual(given, token)) return undefined;
    const why = given === undefined
      ? 'this server needs a token: send Authorization: Bearer <token> (or ?token=<token> on a GET)'
      : 'the token is wrong';
    // Returning the sent reply ends the request here; the route never runs.
    return sendError(reply, new HttpError(401, 'UNAUTHORIZED', why));
  };
}

/** True for 127.0.0.0/8, ::1 (and its IPv4-mapped forms) and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Refuse to serve the API on a non-loopback host without a token: anyone who can reach the port
 * could send, revoke and purge jobs.
 * @throws InvalidArgumentError naming the host and what to do.
 */
export function assertSafeBind(host: string, token: string | undefined): void {
  if (token || isLoopback(host)) return;
  throw new InvalidArgumentError(
    `refusing to serve on ${host} without a token: anyone who can reach it could send, revoke and purge jobs. ` +
      'Pass --token <secret> (or set CONVEYOR_TOKEN), or bind to 127.0.0.1',
  );
}
