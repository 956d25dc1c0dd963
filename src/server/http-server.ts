import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControllerCommands, ControllerView } from '../controller/controller-view.ts';
import type { MetricRegistry } from '../domain/metric-registry.ts';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../domain/server-limits.ts';
import { capConnections } from '../net/connection-cap.ts';
import { getHistory, getStatus, postOverride, STATUS_AUDIT_EVENTS, type ApiContext } from './api-routes.ts';
import { EventStream } from './event-stream.ts';
import { healthVerdict } from './health-verdict.ts';
import { HttpError, sendJson, sendText } from './http-util.ts';
import { addListenerMetrics, createMetrics, type DnsListener } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { RecentAudit } from './recent-audit.ts';
import { renderStatusPage, statusPageCsp } from './status-page.ts';
import { fullSnapshot, statusSnapshot } from './status-snapshot.ts';

/** How many clients the server holds and for how long: slow or idle clients cannot exhaust file descriptors. */
export interface HttpLimits {
  /** Open connections in all (default 256); beyond it new connections are reset at once. */
  maxConnections: number;
  /** Open connections from one client address (default 32). */
  maxPerClient: number;
  /** A client must send the request headers within this (default 10 s), else 408 and closed. */
  headersTimeoutMs: number;
  /** ... and the whole request within this (default 30 s). */
  requestTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (default 30 s; event streams push every 5 s). */
  idleTimeoutMs: number;
  /** Open event streams in all (default 64) and per client address (default 4). */
  maxEventStreams: number;
  maxEventStreamsPerClient: number;
}

/** The stack's `server.limits` as the server's own names. */
export function httpLimitsOf(l: ServerLimits): HttpLimits {
  return {
    maxConnections: l.connections,
    maxPerClient: l.perClient,
    headersTimeoutMs: l.headersTimeoutMs,
    requestTimeoutMs: l.requestTimeoutMs,
    idleTimeoutMs: l.idleTimeoutMs,
    maxEventStreams: l.eventStreams,
    maxEventStreamsPerClient: l.eventStreamsPerClient,
  };
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = httpLimitsOf(DEFAULT_SERVER_LIMITS);

export interface HttpServerOptions {
  /** What the server shows (read only: status, /metrics, /healthz, events). */
  controller: ControllerView;
  /** What the write routes (POST /api/drain ...) submit overrides to. */
  commands: ControllerCommands;
  /** Address to bind, e.g. `127.0.0.1` (spec.server.listen). */
  listen: string;
  /** 0 = pick a free port. */
  port: number;
  /** The API bearer token (read by the caller from the env var spec.server.tokenEnv names); undefined = read-only API. */
  token: string | undefined;
  now?: () => number;
  log?: (line: string) => void;
  /** Default: the spec's `server.limits` (DEFAULT_SERVER_LIMITS when the spec has none). */
  limits?: Partial<HttpLimits>;
  /** Embedded DNS servers run beside it, whose refused connections and limited answers /metrics counts. */
  dnsServers?: () => readonly DnsListener[];
  /** Audit events kept in memory for the status page and /api/status (default 500). */
  recentAuditCapacity?: number;
  /** flotilla's version, for the OpenAPI document. */
  version?: string;
}

export interface RunningHttpServer {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  port: number;
  /** `METHOD /path` of every route it serves (docs/api.md and the OpenAPI document list the same). */
  routes: string[];
  /** The server's Prometheus registry, for other parts (alerts) to add their metrics to. */
  registry: MetricRegistry;
  /** Open connections now, and connections reset at accept because a cap was reached. */
  connections(): { open: number; refused: number; eventStreams: number };
  close(): Promise<void>;
}

/**
 * The daemon's HTTP server:
 *   GET  /               status page (live via /events)
 *   GET  /events         server-sent events (status, audit)
 *   GET  /api/status     the status as JSON, with recent audit events
 *   GET  /api/history    ?since=<ms>&limit=<n>&before=<cursor>: audit events
 *   POST /api/drain      {mirror, reason, for?, force?, wait?}            bearer token
 *   POST /api/failover   {mirror, reason, for?, force?, wait?}            bearer token
 *   POST /api/undrain    {mirror, wait?}                                  bearer token
 *   POST /api/clear      {mirror, id?, wait?}                             bearer token
 *   GET  /metrics        Prometheus text format
 *   GET  /healthz        200 while something is published (see healthVerdict), else 503 with the reasons
 *   GET  /api/openapi.json  the OpenAPI document of all this (openapi.ts; docs/api.md in words)
 * Status requests are served from memory (no audit log read); connections are capped and timed out (HttpLimits).
 * Writes answer as soon as the override is saved and audited; the reconcile it triggers runs after (see `wait`).
 */
export async function startHttpServer(o: HttpServerOptions): Promise<RunningHttpServer> {
  const { controller } = o;
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  const limits = { ...httpLimitsOf(controller.spec.server.limits ?? DEFAULT_SERVER_LIMITS), ...o.limits };
  const recent = new RecentAudit({ controller, capacity: o.recentAuditCapacity, now, log });
  const ctx: ApiContext = { controller, commands: o.commands, token: o.token, now, recent, historyGate: { busy: false } };
  const metrics = createMetrics(controller);
  const events = new EventStream({
    controller,
    snapshot: () => statusSnapshot(controller, now()),
    maxClients: limits.maxEventStreams,
    maxClientsPerAddress: limits.maxEventStreamsPerClient,
  });

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void> = {
    'GET /': (_req, res) => {
      const nonce = randomBytes(16).toString('base64');
      const html = renderStatusPage(fullSnapshot(controller, now(), recent.recent(STATUS_AUDIT_EVENTS)), nonce);
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
    'GET /api/openapi.json': (_req, res) => sendJson(res, 200, openApiDocument(o.version ?? 'unknown')),
    'GET /healthz': (_req, res) => {
      const v = healthVerdict({
        cutOff: controller.cutOff,
        names: [controller.spec.domain, ...controller.spec.alternateDomains],
        desiredZones: controller.desired().zones,
        lastOutcome: controller.lastOutcome,
        providers: controller.providerStatus,
        failStatic: controller.failStatic,
        follower: controller.isLeader() ? undefined : { leader: controller.leader()?.vantage },
      });
      sendJson(res, v.ok ? 200 : 503, { ok: v.ok, ...(v.ok ? {} : { reason: v.reasons.join('; '), reasons: v.reasons }), cutOff: controller.cutOff, serving: controller.lastServing ?? null });
    },
  };
  const paths = new Set(Object.keys(routes).map((k) => k.split(' ')[1]));

  const server = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // how often Node checks those two timeouts (its default, 30 s, would let an idle socket live 40 s)
    connectionsCheckingInterval: Math.max(10, Math.min(1000, limits.headersTimeoutMs / 2)),
    keepAliveTimeout: Math.min(5000, limits.idleTimeoutMs),
  }, (req, res) => {
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
  // no 'timeout' listener: Node destroys a socket idle this long
  server.setTimeout(limits.idleTimeoutMs);
  let refusedLogged = 0;
  const capped = capConnections(server, limits, (remote, why) => {
    // one line per second at most: an attack must not flood the log
    if (now() - refusedLogged < 1000) return;
    refusedLogged = now();
    log(`http: connection from ${remote} reset: ${why}`);
  });

  // the one read of the log at start: bounded wait, so a huge log delays the first page a little, never the daemon
  await Promise.race([recent.ready, new Promise((r) => setTimeout(r, 2000).unref())]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  addListenerMetrics(metrics.registry, {
    refused: () => [
      { listener: 'http', port, refused: capped.refused },
      { listener: 'event-stream', port, refused: events.refused },
      ...(o.dnsServers?.() ?? []).map((d) => ({ listener: 'dns-tcp', port: d.port, refused: d.stats().tcpRefused })),
    ],
    udp: () => (o.dnsServers?.() ?? []).map((d) => ({ port: d.port, slipped: d.stats().udpSlipped, dropped: d.stats().udpDropped })),
  });
  const host = o.listen.includes(':') ? `[${o.listen}]` : o.listen;
  return {
    url: `http://${host}:${port}`,
    port,
    routes: Object.keys(routes),
    registry: metrics.registry,
    connections: () => ({ open: capped.open, refused: capped.refused, eventStreams: events.clientCount }),
    close: async () => {
      events.close();
      recent.close();
      metrics.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
