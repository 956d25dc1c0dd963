import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Controller } from '../controller/controller.ts';
import { getHistory, getStatus, postOverride, type ApiContext } from './api-routes.ts';
import { EventStream } from './event-stream.ts';
import { HttpError, sendJson, sendText } from './http-util.ts';
import { createMetrics } from './metrics.ts';
import { renderStatusPage, statusPageCsp } from './status-page.ts';
import { fullSnapshot, statusSnapshot } from './status-snapshot.ts';

export interface HttpServerOptions {
  controller: Controller;
  /** Address to bind, e.g. `127.0.0.1` (spec.server.listen). */
  listen: string;
  /** 0 = pick a free port. */
  port: number;
  /** The API bearer token (read by the caller from the env var spec.server.tokenEnv names); undefined = read-only API. */
  token: string | undefined;
  now?: () => number;
  log?: (line: string) => void;
}

export interface RunningHttpServer {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  port: number;
  /** The server's Prometheus registry, for other parts (alerts) to add their metrics to. */
  registry: Registry;
  close(): Promise<void>;
}

/**
 * The daemon's HTTP server:
 *   GET  /               status page (live via /events)
 *   GET  /events         server-sent events (status, audit)
 *   GET  /api/status     the status as JSON, with recent audit events
 *   GET  /api/history    ?since=<ms>&limit=<n>: audit events
 *   POST /api/drain      {mirror, reason, for?, force?, wait?}            bearer token
 *   POST /api/failover   {mirror, reason, for?, force?, wait?}            bearer token
 *   POST /api/undrain    {mirror, wait?}                                  bearer token
 *   POST /api/clear      {mirror, id?, wait?}                             bearer token
 *   GET  /metrics        Prometheus text format
 *   GET  /healthz        200 while the controller is not cut off, else 503
 * Writes answer as soon as the override is saved and audited; the reconcile it triggers runs after (see `wait`).
 */
export async function startHttpServer(o: HttpServerOptions): Promise<RunningHttpServer> {
  const { controller } = o;
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  const ctx: ApiContext = { controller, token: o.token, now };
  const metrics = createMetrics(controller);
  const events = new EventStream({ controller, snapshot: () => statusSnapshot(controller, now()) });

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void> = {
    'GET /': async (_req, res) => {
      const nonce = randomBytes(16).toString('base64');
      const html = renderStatusPage(await fullSnapshot(controller, now()), nonce);
      sendText(res, 200, html, 'text/html; charset=utf-8', { 'content-security-policy': statusPageCsp(nonce), 'x-frame-options': 'DENY' });
    },
    'GET /events': (req, res) => events.handle(req, res),
    'GET /api/status': (_req, res) => getStatus(ctx, res),
    'GET /api/history': (_req, res, url) => getHistory(ctx, res, url),
    'POST /api/drain': (req, res) => postOverride(ctx, req, res, 'drain'),
    'POST /api/failover': (req, res) => postOverride(ctx, req, res, 'failover'),
    'POST /api/undrain': (req, res) => postOverride(ctx, req, res, 'undrain'),
    'POST /api/clear': (req, res) => postOverride(ctx, req, res, 'clear'),
    'GET /metrics': async (_req, res) => {
      sendText(res, 200, await metrics.registry.metrics(), metrics.registry.contentType);
    },
    'GET /healthz': (_req, res) => {
      const ok = !controller.cutOff;
      sendJson(res, ok ? 200 : 503, { ok, cutOff: controller.cutOff, serving: controller.lastServing ?? null });
    },
  };
  const paths = new Set(Object.keys(routes).map((k) => k.split(' ')[1]));

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://flotilla.invalid');
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? 'GET';
    const route = routes[`${method} ${url.pathname}`];
    if (!route) {
      if (paths.has(url.pathname)) sendJson(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` });
      else sendJson(res, 404, { error: `no such endpoint: ${url.pathname}` });
      return;
    }
    Promise.resolve()
      .then(() => route(req, res, url))
      .catch((e: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (e instanceof HttpError) {
          sendJson(res, e.status, { error: e.message, ...e.extra }, e.status === 401 ? { 'www-authenticate': 'Bearer realm="flotilla"' } : {});
          return;
        }
        log(`http: ${req.method} ${url.pathname} failed: ${(e as Error).message}`);
        sendJson(res, 500, { error: 'internal error; see the daemon log' });
      });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.listen.includes(':') ? `[${o.listen}]` : o.listen;
  return {
    url: `http://${host}:${port}`,
    port,
    registry: metrics.registry,
    close: async () => {
      events.close();
      metrics.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
