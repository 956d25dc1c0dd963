/**
 * A URL as it may be printed, logged, audited or shown: the userinfo (`user:password@`) replaced by `***@`.
 * Pure; never throws. Text that does not parse as a URL is still scrubbed of anything between `//` and `@`.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/[^/?#\s]*@/g, '//***@');
  }
  if (u.username === '' && u.password === '') return url;
  u.username = '';
  u.password = '';
  // URL serialisation drops the empty userinfo; the marker says there was one without saying what.
  return u.href.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, '$1***@');
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
