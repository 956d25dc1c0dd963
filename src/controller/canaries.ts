import type { CanarySpec } from '../domain/fleet-spec.ts';
import { connect } from 'node:net';
import { redactText, redactUrl } from '../domain/redact-url.ts';

export interface CanaryResult {
  at: number;
  results: { target: string; ok: boolean; reason: string; latencyMs: number }[];
}

/**
 * Checks the controller's own connectivity: each canary is `host:port` (TCP connect) or an http(s) URL (any HTTP
 * answer counts). When every canary fails, the controller is cut off and must change nothing (fail static).
 */
export async function checkCanaries(canaries: readonly CanarySpec[], timeoutMs: number, signal?: AbortSignal): Promise<CanaryResult> {
  const at = Date.now();
  const results = await Promise.all(canaries.map((c) => checkOne(c.target, timeoutMs, signal)));
  return { at, results };
}

async function checkOne(target: string, timeoutMs: number, signal?: AbortSignal) {
  const t0 = performance.now();
  // results reach the audit, the status page and /api/status: a URL's userinfo or token, or an error quoting it, never does
  const done = (ok: boolean, reason: string) => ({ target: redactUrl(target), ok, reason: redactText(reason), latencyMs: Math.round(performance.now() - t0) });
  if (/^https?:\/\//.test(target)) {
    try {
      const ac = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]);
      const r = await fetch(target, { method: 'HEAD', signal: ac, redirect: 'manual' });
      return done(true, `HTTP ${r.status}`);
    } catch (e) {
      return done(false, (e as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs}ms` : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message));
    }
  }
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (!m) return done(false, 'not host:port or a URL');
  return new Promise<ReturnType<typeof done>>((resolve) => {
    const s = connect({ host: m[1], port: Number(m[2]) });
    const t = setTimeout(() => { s.destroy(); resolve(done(false, `timeout after ${timeoutMs}ms`)); }, timeoutMs);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(done(true, 'connected')); });
    s.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(t); resolve(done(false, e.code === 'ECONNREFUSED' ? 'refused' : (e.code ?? e.message))); });
  });
}
