import { createHmac, randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEvent } from '../domain/audit.ts';
import type { MetricRegistry } from '../domain/metric-registry.ts';

/**
 * One alert destination.
 * - `json`: POSTs the alert as JSON; with a `secret`, adds `X-Flotilla-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
 * - `slack`: POSTs `{ text }` (Slack incoming webhooks, Mattermost, Rocket.Chat and friends).
 * `secret` is the value, read by the caller from the environment variable the stack names; it is never logged.
 * The URL is never logged either (Slack puts its secret in the path): logs name the webhook by `name` or its host.
 */
export interface WebhookConfig {
  url: string;
  kind: 'json' | 'slack';
  secret?: string;
  name?: string;
}

export interface AlertsOptions {
  /**
   * Emits 'audit' (AuditEvent) and 'alert' (AuditEvent that alerts whatever its kind, even when it could not be
   * audited); the Controller does. `spec.stack` names the stack in every alert.
   */
  controller: EventEmitter & { spec: { stack: string } };
  webhooks: WebhookConfig[];
  /** Audit kinds that alert (default ALERT_KINDS). */
  kinds?: readonly string[];
  /** Alerts waiting per webhook; beyond it the oldest is dropped and counted (default 100). */
  maxQueue?: number;
  /** Delivery attempts per alert, the first included (default 5). */
  attempts?: number;
  /** First retry delay; doubles each attempt up to maxDelayMs (defaults 500 ms, 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** When given, alert counters are registered here (flotilla_alerts_total, flotilla_alerts_dropped_total, ...). */
  registry?: MetricRegistry;
  log?: (line: string) => void;
  /** Test seams: the wait between attempts (rejects when `signal` aborts) and the jitter source in [0, 1). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface AlertStats {
  sent: number;
  /** Gave up: attempts exhausted or the receiver refused the alert (4xx). */
  failed: number;
  /** Dropped because the queue was full. */
  dropped: number;
  /** Retries (attempts after the first). */
  retries: number;
  queued: number;
}

export interface RunningAlerts {
  /** Stops listening at once and abandons deliveries in flight (they count neither sent nor failed). */
  stop(): Promise<void>;
  /** Waits until every queue is empty or `timeoutMs` passes; true when everything was delivered or given up. */
  flush(timeoutMs?: number): Promise<boolean>;
  stats(): AlertStats;
}

export const ALERT_KINDS = ['flip', 'fail-open', 'fail-static', 'apply-error', 'conflict', 'override', 'override-expired', 'delegation', 'deplatformed', 'cert-error'] as const;

/** The JSON alert body. */
export interface AlertPayload {
  source: 'flotilla';
  id: string;
  stack: string;
  kind: string;
  severity: 'critical' | 'warning' | 'info';
  message: string;
  /** ISO time of the event. */
  at: string;
  actor?: string;
  data?: Record<string, unknown>;
}

/** How bad an audit event is, for people routing alerts. Pure. */
export function severityOf(e: AuditEvent): AlertPayload['severity'] {
  if (e.kind === 'fail-open' || e.kind === 'fail-static') return 'critical';
  if (e.kind === 'flip') return e.data?.state === 'down' ? 'warning' : 'info';
  if (e.kind === 'store-error') return 'critical';
  // a host took the site down on purpose: it will not come back by itself (another runbook than a crash)
  if (e.kind === 'deplatformed') return e.data?.state === 'up' ? 'info' : 'critical';
  if (e.kind === 'apply-error' || e.kind === 'conflict') return 'warning';
  // a mirror's SSH host key changed: a rebuilt host, or someone in the path (nothing was sent to it)
  if (e.kind === 'cert-error' && e.data?.code === 'CERT_HOST_KEY') return 'critical';
  // a certificate not renewed or not deployed: users see a browser error once it expires
  if (e.kind === 'cert-error') return 'warning';
  // a lost domain takes the site off the DNS; a pruned, held or failed delegation change needs a look
  if (e.kind === 'delegation') return e.data?.event === 'lost' ? 'critical' : ['prune', 'held', 'error', 'registry'].includes(String(e.data?.event)) ? 'warning' : 'info';
  return 'info';
}

export function alertPayload(stack: string, e: AuditEvent): AlertPayload {
  const p: AlertPayload = { source: 'flotilla', id: randomUUID(), stack, kind: e.kind, severity: severityOf(e), message: e.message, at: new Date(e.at).toISOString() };
  if (e.actor !== undefined) p.actor = e.actor;
  if (e.data !== undefined) p.data = e.data;
  return p;
}

/** Slack-compatible `{ text }`; `&`, `<`, `>` are escaped so a reason cannot forge a link or a mention. */
export function slackPayload(p: AlertPayload): { text: string } {
  const icon = p.severity === 'critical' ? ':rotating_light:' : p.severity === 'warning' ? ':red_circle:' : ':large_blue_circle:';
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return { text: `${icon} *[flotilla ${esc(p.stack)}] ${esc(p.kind)}*: ${esc(p.message)}` };
}

/** `sha256=<hex>` HMAC of the raw body, as sent in X-Flotilla-Signature. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Sends webhook alerts for audit events of the chosen kinds. Never blocks the control loop: the 'audit' listener
 * only queues; one worker per webhook delivers in order, retrying network errors, 408, 429 and 5xx with exponential
 * backoff (honouring Retry-After) for a bounded number of attempts. A full queue drops its oldest alert and counts it.
 */
export function startAlerts(o: AlertsOptions): RunningAlerts {
  const kinds = new Set(o.kinds ?? ALERT_KINDS);
  const maxQueue = o.maxQueue ?? 100;
  const attempts = Math.max(1, o.attempts ?? 5);
  const baseDelay = o.baseDelayMs ?? 500;
  const maxDelay = o.maxDelayMs ?? 30_000;
  const timeoutMs = o.timeoutMs ?? 5000;
  const log = o.log ?? (() => {});
  const wait = o.sleep ?? ((ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }));
  const random = o.random ?? Math.random;
  const stop = new AbortController();
  const stats: AlertStats = { sent: 0, failed: 0, dropped: 0, retries: 0, queued: 0 };

  const m = o.registry
    ? {
        total: o.registry.counter({ name: 'flotilla_alerts_total', help: 'Alert deliveries by webhook and result (sent, failed).', labelNames: ['webhook', 'result'] as const }),
        dropped: o.registry.counter({ name: 'flotilla_alerts_dropped_total', help: 'Alerts dropped because the webhook queue was full.', labelNames: ['webhook'] as const }),
        retries: o.registry.counter({ name: 'flotilla_alert_retries_total', help: 'Alert delivery retries.', labelNames: ['webhook'] as const }),
        queued: o.registry.gauge({ name: 'flotilla_alerts_queued', help: 'Alerts waiting for delivery.', collect() { this.set(stats.queued); } }),
      }
    : undefined;

  const queues = o.webhooks.map((w) => ({ w, label: w.name ?? safeHost(w.url), items: [] as AlertPayload[], busy: false }));
  type Queue = (typeof queues)[number];
  let idleWaiters: (() => void)[] = [];

  const onAudit = (e: AuditEvent) => {
    if (kinds.has(e.kind)) onAlert(e);
  };
  const onAlert = (e: AuditEvent) => {
    if (stop.signal.aborted) return;
    const payload = alertPayload(o.controller.spec.stack, e);
    for (const q of queues) {
      if (q.items.length >= maxQueue) {
        q.items.shift();
        stats.dropped++;
        stats.queued--;
        m?.dropped.inc({ webhook: q.label });
      }
      q.items.push(payload);
      stats.queued++;
      if (!q.busy) void work(q);
    }
  };
  o.controller.on('audit', onAudit);
  o.controller.on('alert', onAlert);

  async function work(q: Queue): Promise<void> {
    q.busy = true;
    try {
      while (q.items.length > 0 && !stop.signal.aborted) {
        const p = q.items.shift()!;
        stats.queued--;
        await deliver(q, p);
      }
    } finally {
      q.busy = false;
      if (queues.every((x) => !x.busy && x.items.length === 0)) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  async function deliver(q: Queue, p: AlertPayload): Promise<void> {
    const body = JSON.stringify(q.w.kind === 'slack' ? slackPayload(p) : p);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'flotilla-alerts', 'x-flotilla-event': p.kind, 'x-flotilla-delivery': p.id };
    if (q.w.secret) headers['x-flotilla-signature'] = signBody(q.w.secret, body);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let retryAfterMs: number | undefined;
      let why: string;
      try {
        const res = await fetch(q.w.url, { method: 'POST', headers, body, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]), redirect: 'error' });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          stats.sent++;
          m?.total.inc({ webhook: q.label, result: 'sent' });
          return;
        }
        why = `status ${res.status}`;
        if (res.status < 500 && res.status !== 408 && res.status !== 429) {
          giveUp(q, p, `${why} (not retried)`);
          return;
        }
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      } catch (e) {
        if (stop.signal.aborted) return;
        const code = ((e as { cause?: { code?: string } }).cause?.code) ?? '';
        why = (e as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs}ms` : `${(e as Error).message}${code ? ` (${code})` : ''}`;
      }
      if (attempt === attempts) {
        giveUp(q, p, `${why} after ${attempts} attempts`);
        return;
      }
      const backoff = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1)) * (0.8 + random() * 0.4);
      stats.retries++;
      m?.retries.inc({ webhook: q.label });
      try {
        await wait(Math.min(maxDelay, Math.max(backoff, retryAfterMs ?? 0)), stop.signal);
      } catch {
        return; // stopped
      }
    }
  }

  function giveUp(q: Queue, p: AlertPayload, why: string): void {
    stats.failed++;
    m?.total.inc({ webhook: q.label, result: 'failed' });
    log(`alert ${p.kind} to webhook ${q.label} not delivered: ${why}`);
  }

  return {
    async stop() {
      o.controller.off('audit', onAudit);
      o.controller.off('alert', onAlert);
      stop.abort();
      for (const q of queues) {
        stats.queued -= q.items.length;
        q.items.length = 0;
      }
    },
    flush(ms = 10_000) {
      if (queues.every((x) => !x.busy && x.items.length === 0)) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        idleWaiters.push(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    },
    stats: () => ({ ...stats }),
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'webhook';
  }
}

function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}
