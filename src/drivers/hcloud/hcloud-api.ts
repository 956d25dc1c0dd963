/**
 * A minimal Hetzner Cloud API client (fetch). Hetzner publishes no official JavaScript SDK (the official clients
 * are hcloud-go and hcloud-python), so the few calls the DNS driver needs are made here.
 * Facts (Hetzner Cloud API reference; hcloud-go schema/error.go and client_handler_rate_limit.go):
 * - auth `Authorization: Bearer <token>`; errors are `{ "error": { "code", "message", "details" } }`; status/code pairs:
 *   401 `unauthorized`/`token_readonly`, 403 `forbidden`/`maintenance`, 404 `not_found`, 409 `uniqueness_error`/
 *   `conflict` (retry), 422 `invalid_input`, 423 `locked` (an action is running)/`protected`, 429
 *   `rate_limit_exceeded`, 500 `server_error`, 503 `unavailable`, 504 `timeout`;
 * - every response carries `RateLimit-Limit` (per hour), `RateLimit-Remaining` and `RateLimit-Reset` (UNIX time of
 *   full recovery); the remaining count refills gradually (3600/h = one a second), so a 429 waits one refill;
 * - writes return an Action `{ id, command, status: running|success|error, error }`, followed at /zones/actions/{id}.
 */
import { DriverError } from '../../domain/errors.ts';
import { isRedirect, RedirectRefusedError } from '../redirect-refused.ts';
import { withRetry, type RetryOptions } from '../retry.ts';

export interface HcloudApiOptions {
  endpoint: string;
  token: string;
  provider: string;
  tokenEnv: string;
  retry?: RetryOptions;
  /** Interval between polls of a running action, ms. */
  actionPollMs?: number;
  /** Give up on a running action after this long, ms. */
  actionTimeoutMs?: number;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

export interface HcloudAction {
  id: number;
  command?: string;
  status: 'running' | 'success' | 'error';
  error?: { code: string; message: string } | null;
}

export interface HcloudApi {
  /** One API call with retry; throws DriverError. `okStatuses` are answered with `undefined` instead of an error. */
  request<T>(zone: string, what: string, method: string, path: string, body?: unknown, opts?: { signal?: AbortSignal; okStatuses?: number[]; /** Called before every attempt (retries included). */ onAttempt?: () => void }): Promise<T | undefined>;
  /** Waits until an action is no longer running; an action that ends in error throws. */
  waitAction(zone: string, action: HcloudAction | undefined, signal?: AbortSignal): Promise<void>;
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
  });

/**
 * Milliseconds until the rate limit lets one request in again. Retry-After wins if sent. Otherwise: the remaining
 * count refills gradually (RateLimit-Limit per hour, i.e. one a second at 3600), so one refill interval is enough;
 * RateLimit-Reset (full recovery) only caps it.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ra = headers.get('retry-after');
  if (ra !== null && ra.trim() !== '' && Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
  const limit = Number(headers.get('ratelimit-limit'));
  const reset = Number(headers.get('ratelimit-reset'));
  const untilReset = Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
  const refill = Number.isFinite(limit) && limit > 0 ? Math.ceil(3_600_000 / limit) : undefined;
  if (refill !== undefined && untilReset !== undefined) return Math.min(refill, untilReset);
  return refill ?? untilReset;
}

export function createHcloudApi(o: HcloudApiOptions): HcloudApi {
  const base = o.endpoint.replace(/\/+$/, '');
  const secrets = [o.token];

  function fail(zone: string, what: string, status: number, code: string, message: string, headers?: Headers): DriverError {
    const detail = scrub(`${what}: HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`, secrets);
    const b = { provider: o.provider, zone };
    if (status === 401 || (status === 403 && code !== 'maintenance') || code === 'unauthorized' || code === 'forbidden' || code === 'token_readonly') {
      return new DriverError({ ...b, code: 'DRIVER_AUTH', message: `credentials rejected, check the API token (read/write) — ${detail}` });
    }
    if (status === 429 || code === 'rate_limit_exceeded') {
      return new DriverError({ ...b, code: 'DRIVER_RATE_LIMITED', message: `rate limited — ${detail}`, retryAfterMs: headers ? retryAfterMs(headers) : undefined });
    }
    if (status === 404 || code === 'not_found') return new DriverError({ ...b, code: 'DRIVER_NOT_FOUND', message: `not found — ${detail}` });
    const transient = status >= 500 || ['conflict', 'locked', 'timeout', 'unavailable', 'bad_gateway', 'server_error', 'maintenance'].includes(code);
    return new DriverError({ ...b, code: 'DRIVER_FAILED', message: detail, retryable: transient });
  }

  async function once<T>(zone: string, what: string, method: string, path: string, body: unknown, signal: AbortSignal | undefined, okStatuses: number[]): Promise<T | undefined> {
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(o.timeoutMs ?? 30_000);
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${o.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: 'manual',
      });
    } catch (err) {
      const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new DriverError({ provider: o.provider, zone, code: 'DRIVER_FAILED', retryable: !signal?.aborted, message: scrub(`${what}: request failed (${msg})`, secrets) });
    }
    if (isRedirect(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      throw new RedirectRefusedError({ provider: o.provider, zone, method, status: res.status, location: res.headers.get('location'), setting: 'settings.endpoint' });
    }
    const text = await res.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    if (res.ok) return json as T;
    if (okStatuses.includes(res.status)) return undefined;
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw fail(zone, what, res.status, e?.code ?? '', e?.message ?? '', res.headers);
  }

  const api: HcloudApi = {
    async request<T>(zone: string, what: string, method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; okStatuses?: number[]; onAttempt?: () => void } = {}) {
      if (!o.token) {
        throw new DriverError({ provider: o.provider, zone, code: 'DRIVER_AUTH', message: `no API token: environment variable ${o.tokenEnv} is empty` });
      }
      return withRetry(() => { opts.onAttempt?.(); return once<T>(zone, what, method, path, body, opts.signal, opts.okStatuses ?? []); }, { ...o.retry, signal: opts.signal ?? o.retry?.signal });
    },

    async waitAction(zone, action, signal) {
      if (!action) return;
      const deadline = Date.now() + (o.actionTimeoutMs ?? 120_000);
      let a = action;
      while (a.status === 'running') {
        if (Date.now() > deadline) {
          throw new DriverError({ provider: o.provider, zone, code: 'DRIVER_FAILED', retryable: true, message: `action ${a.id} (${a.command ?? '?'}) still running after ${o.actionTimeoutMs ?? 120_000} ms` });
        }
        await sleep(o.actionPollMs ?? 500, signal);
        const res = await api.request<{ action: HcloudAction }>(zone, `polling action ${a.id}`, 'GET', `/zones/actions/${a.id}`, undefined, { signal });
        if (!res) break;
        a = res.action;
      }
      if (a.status === 'error') {
        throw new DriverError({ provider: o.provider, zone, code: 'DRIVER_FAILED', message: scrub(`action ${a.id} (${a.command ?? '?'}) failed: ${a.error?.code ?? ''} ${a.error?.message ?? ''}`.trim(), secrets) });
      }
    },
  };
  return api;
}
