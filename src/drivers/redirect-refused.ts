import { DriverError } from '../domain/errors.ts';

/**
 * A DNS API answered with a redirect. Drivers send their requests with `redirect: 'manual'` and never follow one:
 * following would hand the credential to whatever address the answer names, and a write "applied" at the redirect
 * target is not a write at the provider. Not retryable: the same request gets the same redirect.
 */
export class RedirectRefusedError extends DriverError {
  readonly status: number;
  constructor(o: { provider: string; zone: string; method: string; status: number; location: string | null; setting: string }) {
    super({
      code: 'DRIVER_FAILED',
      provider: o.provider,
      zone: o.zone,
      message: `${o.method} answered with a redirect (HTTP ${o.status}${o.location ? ` to ${safeLocation(o.location)}` : ''}); redirects are never followed with credentials, so nothing was sent there: set ${o.setting} to the API's final address`,
      retryable: false,
    });
    this.status = o.status;
  }
}

/** True for the statuses fetch would follow. */
export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Where a redirect points, without userinfo, query or fragment (they may carry secrets). */
function safeLocation(location: string): string {
  try {
    const u = new URL(location, 'http://relative.invalid');
    if (u.host === 'relative.invalid') return u.pathname;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(an unreadable address)';
  }
}
