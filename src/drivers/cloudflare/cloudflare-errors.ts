/**
 * Cloudflare SDK errors → typed DriverErrors. Facts used (Cloudflare API docs and observed responses):
 * every error body is `{ success: false, errors: [{ code, message }], messages, result: null }`;
 * 10000 "Authentication error" comes with 403 (401 for some endpoints); malformed credentials give 400 with
 * 6003 "Invalid request headers" (chained 6103/6111); an unknown zone id gives 7003 "Could not route to ...";
 * over the rate limit every call gets 429 with `retry-after` in seconds (and body code 971).
 * Messages are built from codes and provider messages only, then scrubbed of the secret; the SDK error
 * (which holds response headers) is never attached, so nothing secret can leak through `cause`.
 */
import { APIConnectionError, APIError } from 'cloudflare';
import { DriverError } from '../../domain/errors.ts';
import { isRedirect, RedirectRefusedError } from '../redirect-refused.ts';

const AUTH_CODES = new Set([10000, 6003, 6103, 6111, 9103, 9106, 9109]);

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

export function toDriverError(err: unknown, ctx: { provider: string; zone: string; secrets: readonly string[]; what: string }): DriverError {
  if (err instanceof DriverError) return err;
  const base = { provider: ctx.provider, zone: ctx.zone };
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    if (isRedirect(status)) return new RedirectRefusedError({ ...base, method: ctx.what, status, location: err.headers?.get('location') ?? null, setting: 'baseUrl' });
    const list = (err.errors ?? []).map((e) => `${e.code ?? '?'} ${e.message ?? ''}`.trim());
    const codes = (err.errors ?? []).map((e) => e.code ?? 0);
    const detail = scrub(`${ctx.what}: HTTP ${status}${list.length ? ` (${list.join('; ')})` : ''}`, ctx.secrets);
    if (status === 401 || status === 403 || codes.some((c) => AUTH_CODES.has(c))) {
      return new DriverError({ ...base, code: 'DRIVER_AUTH', message: `credentials rejected, check the API token's DNS permissions — ${detail}` });
    }
    if (status === 429) {
      const after = Number(err.headers?.get('retry-after'));
      return new DriverError({
        ...base,
        code: 'DRIVER_RATE_LIMITED',
        message: `rate limited — ${detail}`,
        retryAfterMs: Number.isFinite(after) && after >= 0 ? after * 1000 : undefined,
      });
    }
    if (status === 404 || codes.includes(7003)) {
      return new DriverError({ ...base, code: 'DRIVER_NOT_FOUND', message: `not found — ${detail}` });
    }
    return new DriverError({ ...base, code: 'DRIVER_FAILED', message: detail, retryable: status >= 500 });
  }
  if (err instanceof APIConnectionError) {
    return new DriverError({ ...base, code: 'DRIVER_FAILED', message: scrub(`${ctx.what}: connection failed (${err.message})`, ctx.secrets), retryable: true });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new DriverError({ ...base, code: 'DRIVER_FAILED', message: scrub(`${ctx.what}: ${msg}`, ctx.secrets) });
}
