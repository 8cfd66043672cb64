/**
 * The dashboard: one static page (`GET /`) and its CSS and JS modules (`GET /assets/*`), served
 * from strings bundled at build time (scripts/build.mjs writes assets.gen.ts from ./assets/), so
 * nothing is read from disk at run time. The page talks to the HTTP API (docs/http-api.md).
 *
 * Terminology:
 * - asset   a file of ./assets/ other than the page template, served under /assets/<name>.
 * - prefix  where the routes are mounted ('' at the root, or e.g. '/conveyor'): the page names
 *           its assets under it, and the JS finds the API next to its own URL.
 * - token   the API token: the page's JS reads it from its own `?token=` and sends it with every
 *           API call. Assets carry no data, so the server leaves `/assets/` open (see auth.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { assets } from './assets.gen.js';

const TEMPLATE = 'index.html';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** The servable assets by name, each with its content type and an ETag of its content. */
const files = new Map(
  Object.entries(assets)
    .filter(([name]) => name !== TEMPLATE && CONTENT_TYPES[extension(name)])
    .map(([name, body]) => [name, { body, type: CONTENT_TYPES[extension(name)], etag: `"${createHash('sha1').update(body).digest('base64url')}"` }]),
);

function extension(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** The page, its asset URLs under `prefix`. */
export function renderPage(prefix: string): string {
  const attr = prefix.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return (assets[TEMPLATE] ?? '').replaceAll('__PREFIX__', attr);
}

/** Only our own scripts and styles; connections (fetch, EventSource) to this origin only. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Register `GET /` (the page) and `GET /assets/*` (its CSS and JS) beside the `/api/*` routes of
 * docs/http-api.md, under the same prefix. Authentication is the server's hook.
 */
export function registerDashboard(fastify: FastifyInstance): void {
  const prefix = fastify.prefix === '/' ? '' : fastify.prefix;
  const page = renderPage(prefix);
  fastify.get('/', (_request, reply) => reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer') // the page's URL may hold the token
    .send(page));

  fastify.get('/assets/*', (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const file = files.get(name);
    if (!file) {
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no dashboard asset named ${name}` } });
    }
    reply.header('etag', file.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.header('content-type', file.type).send(file.body);
  });
}
