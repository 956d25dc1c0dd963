import { z } from 'zod';
import { removeOverride, setOverride } from './api-routes.ts';

/** One route of the daemon's HTTP server as documented; the server's route table must list exactly these. */
export interface ApiRoute {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  /** Writes need `Authorization: Bearer <token>` (the env var `server.tokenEnv` names). */
  auth: boolean;
  query?: { name: string; description: string }[];
  body?: z.ZodType;
  /** Status codes besides 200 this route answers with, and when. */
  errors: Record<number, string>;
  /** Media type of the 200 answer (default JSON). */
  produces?: string;
}

const WRITE_ERRORS = {
  400: 'the body is not JSON, fails the schema, or names an unknown mirror (`mirrors` lists the known ones)',
  401: 'no token configured (the API is read-only), no `Bearer` token, or a wrong one',
  409: 'a safety rule refused it (last serving mirror, failover to a mirror that is down: send `"force": true`), or concurrent writers won 20 times',
  413: 'body over 64 KiB',
  503: 'the audit entry could not be written, so nothing changed (audit first), or the state store is unreachable',
};

/** Every route, in the order docs/api.md describes them. */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/', summary: 'The status page (HTML; live through /events).', auth: false, errors: {}, produces: 'text/html' },
  { method: 'GET', path: '/events', summary: 'Server-sent events: `status` snapshots every few seconds and on change, `audit` events as they happen.', auth: false, errors: { 429: 'too many open event streams (in all, or from this address)' }, produces: 'text/event-stream' },
  { method: 'GET', path: '/api/status', summary: 'Everything the status page shows: mirrors with health and streaks, what each provider serves and when it converged, open overrides, the 50 newest audit events. Served from memory.', auth: false, errors: {} },
  {
    method: 'GET', path: '/api/history', summary: 'Audit events at or after `since`, oldest first, at most 1000 per page; `next` is the cursor for older ones.', auth: false,
    query: [
      { name: 'since', description: 'milliseconds since the epoch (default 0)' },
      { name: 'limit', description: 'events per page, at most 1000 (default 1000)' },
      { name: 'before', description: 'the `next` cursor of a previous page' },
    ],
    errors: { 400: 'a parameter is not a whole number, or `before` is not a cursor', 429: 'the log is being read for another request (`Retry-After: 1`)' },
  },
  { method: 'POST', path: '/api/drain', summary: 'Take a mirror out of every answer (the override is audited, then saved; the reconcile follows).', auth: true, body: setOverride, errors: WRITE_ERRORS },
  { method: 'POST', path: '/api/failover', summary: 'Send all traffic to one mirror.', auth: true, body: setOverride, errors: WRITE_ERRORS },
  { method: 'POST', path: '/api/undrain', summary: 'Remove the drain of a mirror.', auth: true, body: removeOverride, errors: WRITE_ERRORS },
  { method: 'POST', path: '/api/clear', summary: 'Remove every open override of a mirror (or the one with `id`).', auth: true, body: removeOverride, errors: WRITE_ERRORS },
  { method: 'GET', path: '/metrics', summary: 'Prometheus text format: probes, flips, applies, convergence, write budget, connections.', auth: false, errors: {}, produces: 'text/plain' },
  { method: 'GET', path: '/healthz', summary: '200 while something is published at every provider; 503 with `reasons` otherwise (for a load balancer or a supervisor).', auth: false, errors: { 503: 'nothing is published, the controller is cut off, or a provider failed its last pass' } },
  { method: 'GET', path: '/api/openapi.json', summary: 'This document.', auth: false, errors: {} },
];

const errorBody = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] };

/** The OpenAPI 3.1 document of the daemon's HTTP API, built from API_ROUTES and the request schemas the server parses with. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of API_ROUTES) {
    const responses: Record<string, unknown> = { 200: { description: 'ok', content: { [r.produces ?? 'application/json']: {} } } };
    for (const [code, why] of Object.entries(r.errors)) responses[code] = { description: why, content: { 'application/json': { schema: errorBody } } };
    responses[404] = { description: 'no such endpoint', content: { 'application/json': { schema: errorBody } } };
    responses[405] = { description: 'the path exists but not with this method', content: { 'application/json': { schema: errorBody } } };
    const op: Record<string, unknown> = { summary: r.summary, operationId: `${r.method.toLowerCase()}${r.path.replace(/[^a-z]+(\w)?/gi, (_, c: string | undefined) => (c ?? '').toUpperCase()) || 'Root'}`, responses };
    if (r.auth) op.security = [{ bearer: [] }];
    if (r.query) op.parameters = r.query.map((q) => ({ name: q.name, in: 'query', required: false, description: q.description, schema: { type: 'string' } }));
    if (r.body) {
      const { $schema: _, ...schema } = z.toJSONSchema(r.body) as Record<string, unknown>;
      op.requestBody = { required: true, content: { 'application/json': { schema } } };
      op.parameters = [{ name: 'X-Flotilla-Author', in: 'header', required: false, description: 'who acts (audited; printable, at most 64 characters; default `api`)', schema: { type: 'string' } }];
    }
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'flotilla daemon API', version, description: 'The HTTP API of `flotilla daemon`: status, audit history, responder overrides, metrics. See docs/api.md.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the token in the environment variable `server.tokenEnv` names' } } },
    paths,
  };
}
