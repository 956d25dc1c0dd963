/**
 * Names of query parameters that carry a credential (OAuth, API keys, signed AWS URLs, webhook secrets).
 * Their values are replaced by `***` wherever a URL is printed, logged, audited or shown.
 */
const SECRET_PARAMS = /([?&;](?:access[_-]?token|id[_-]?token|refresh[_-]?token|token|api[_-]?key|apikey|key|secret|client[_-]?secret|password|passwd|pass|pwd|auth|authorization|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=)[^&#\s"'<>]*/gi;
/** `scheme://userinfo@`: userinfo runs to the LAST `@` before the host (WHATWG reads `u:p@ss@host` that way). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi;

/**
 * A URL as it may be printed, logged, audited or shown: the userinfo (`user:password@`) replaced by `***@` and the
 * values of token-like query parameters (`?token=`, `api_key=`, `X-Amz-Signature=`...) by `***`.
 * Pure; never throws. Text that does not parse as a URL is still scrubbed of anything between `//` and `@`.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactText(url.replace(/\/\/[^/?#\s]*@/g, '//***@'));
  }
  if (u.username === '' && u.password === '') return url.replace(SECRET_PARAMS, '$1***');
  u.username = '';
  u.password = '';
  // URL serialisation drops the empty userinfo; the marker says there was one without saying what.
  return u.href.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, '$1***@').replace(SECRET_PARAMS, '$1***');
}

/**
 * Any text (an error message, a log line, an audit reason) with every URL in it redacted as by redactUrl: the one
 * function every path calls before text that came from outside the stack file (SDK and fetch errors, etcd answers,
 * canary results) leaves the process. Pure, idempotent, never throws.
 */
export function redactText(text: string): string {
  if (!text.includes('@') && !/[?&;]/.test(text)) return text;
  return text.replace(USERINFO, '$1***@').replace(SECRET_PARAMS, '$1***');
}

/** Every string inside a JSON-like value redacted by redactText (objects and arrays copied, the rest kept). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}

/** True when the URL carries a user name or password (`https://user:pass@host/`). */
export function hasUserinfo(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return /\/\/[^/?#\s]*@/.test(url);
  }
}
