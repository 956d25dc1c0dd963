import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { StateError, UsageError } from '../domain/errors.ts';
import type { ControllerCommands, ControllerView, SubmittedOverride } from '../controller/controller-view.ts';
import { OverrideConflictError, type OverrideCommand } from '../controller/overrides.ts';
import { authorOf, checkBearer, HttpError, readJson, sendJson } from './http-util.ts';
import type { RecentAudit } from './recent-audit.ts';
import { fullSnapshot } from './status-snapshot.ts';

export interface ApiContext {
  /** Read only: what the routes show. */
  controller: ControllerView;
  /** The one path by which a route changes the controller. */
  commands: ControllerCommands;
  token: string | undefined;
  now: () => number;
  /** Recent audit events held in memory: status requests never read the log. */
  recent: RecentAudit;
  /** Reads of the audit log for /api/history, one at a time (the log can be large). */
  historyGate: { busy: boolean };
}

/** Body of POST /api/drain and /api/failover (also the OpenAPI document's schema for them). */
export const setOverride = z
  .object({
    mirror: z.string().min(1, 'name the mirror'),
    reason: z.string().trim().min(1, 'give a reason (who is affected and why)').max(500),
    for: z.string().max(20).optional(),
    force: z.boolean().optional(),
    /** Answer only after the reconcile this write causes has finished (and say how it went). */
    wait: z.boolean().optional(),
  })
  .strict();
/** Body of POST /api/undrain and /api/clear. */
export const removeOverride = z.object({ mirror: z.string().min(1, 'name the mirror'), id: z.string().optional(), wait: z.boolean().optional() }).strict();

const WAIT_LIMIT_MS = 15_000;
/** Audit events in /api/status and on the status page. */
export const STATUS_AUDIT_EVENTS = 50;
/** Most events one /api/history answer carries. */
const HISTORY_MAX = 1000;

/** GET /api/status: everything the status page shows. */
export function getStatus(ctx: ApiContext, res: ServerResponse): void {
  sendJson(res, 200, fullSnapshot(ctx.controller, ctx.now(), ctx.recent.recent(STATUS_AUDIT_EVENTS)));
}

/**
 * GET /api/history?since=<ms>&limit=<n>: audit events at or after `since`, oldest first (the last `limit`, at most
 * 1000; `truncated` says when older ones were left out). Served from memory when it holds every event since
 * `since`; otherwise one read of the log at a time, others are asked to retry (429).
 */
export async function getHistory(ctx: ApiContext, res: ServerResponse, url: URL): Promise<void> {
  const since = intParam(url, 'since', 0);
  const limit = Math.min(intParam(url, 'limit', HISTORY_MAX), HISTORY_MAX);
  const before = url.searchParams.get('before') ?? undefined;
  if (before !== undefined && !/^[\w:.-]{1,200}$/.test(before)) throw new HttpError(400, 'before must be the `next` cursor of a previous page');
  const recent = before === undefined ? ctx.recent.since(since) : undefined;
  if (recent) {
    sendJson(res, 200, { since, events: recent.slice(-limit), truncated: recent.length > limit });
    return;
  }
  if (ctx.historyGate.busy) throw new HttpError(429, 'the audit log is being read for another request; retry in a second', { retryAfter: 1 });
  ctx.historyGate.busy = true;
  try {
    // one page, newest first from the store's point of view; `next` continues with older events
    const page = await ctx.controller.auditLog.auditPage({ since, before, limit });
    sendJson(res, 200, { since, events: page.events, truncated: page.next !== undefined, next: page.next, skipped: page.skipped });
  } finally {
    ctx.historyGate.busy = false;
  }
}

/** POST /api/drain | /api/failover | /api/undrain | /api/clear. */
export async function postOverride(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, action: OverrideCommand['kind']): Promise<void> {
  const { controller } = ctx;
  checkBearer(req, ctx.token);
  const body = await readJson(req);
  const author = authorOf(req);
  let cmd: OverrideCommand;
  let wait: boolean | undefined;
  if (action === 'drain' || action === 'failover') {
    const b = parse(setOverride, body);
    cmd = { kind: action, mirror: b.mirror, reason: b.reason, author, for: b.for, force: b.force };
    wait = b.wait;
  } else {
    const b = parse(removeOverride, body);
    cmd = action === 'clear' ? { kind: 'clear', mirror: b.mirror, author, id: b.id } : { kind: 'undrain', mirror: b.mirror, author };
    wait = b.wait;
  }
  const known = controller.spec.mirrors.map((m) => m.name);
  if (!known.includes(cmd.mirror)) throw new HttpError(400, `unknown mirror "${cmd.mirror}"; known mirrors: ${known.join(', ')}`, { mirrors: known });

  let submitted: SubmittedOverride;
  try {
    submitted = await ctx.commands.submitOverride(cmd, { auditData: { via: 'api', remote: req.socket.remoteAddress }, now: ctx.now() });
  } catch (e) {
    if (e instanceof OverrideConflictError) throw new HttpError(409, e.message, { hint: 'send "force": true to record it anyway' });
    if (e instanceof UsageError) throw new HttpError(400, e.message);
    if (e instanceof StateError) throw new HttpError(e.code === 'STATE_CONFLICT' ? 409 : 503, e.message);
    throw e;
  }
  // The answer does not wait for the reconcile (which includes verification at every server, up to seconds)
  // unless the caller asks with "wait": true; the status page sees the outcome on /events.
  const { outcome: r, reconcile } = submitted;
  reconcile?.catch(() => undefined);
  let outcome: Record<string, unknown> | undefined;
  if (wait && reconcile) {
    const o = await Promise.race([reconcile, sleep(WAIT_LIMIT_MS, undefined, { ref: false })]);
    outcome = o
      ? { serving: o.desired.serving, skipped: o.skipped, errors: o.reports.filter((x) => !x.ok).map((x) => `${x.provider} ${x.zone}: ${x.error}`), convergeMs: o.convergeMs }
      : { pending: `still running after ${WAIT_LIMIT_MS / 1000}s` };
  }
  sendJson(res, 200, {
    ok: true,
    changed: r.changed,
    message: r.message,
    override: r.override,
    removed: r.removed,
    serving: controller.desired().serving,
    reconcile: outcome ?? (reconcile ? 'requested' : 'not needed'),
  });
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`);
  throw new HttpError(400, `invalid request body: ${problems.join('; ')}`, { problems });
}

function intParam(url: URL, name: string, dflt: number): number {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return dflt;
  if (!/^\d{1,16}$/.test(v)) throw new HttpError(400, `${name} must be a whole number (milliseconds since the epoch for since)`);
  return Number(v);
}
