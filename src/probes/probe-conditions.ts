import type { ProbeTarget } from './probe-target.ts';

/** What a probe saw of one response; probe-conditions judges it against the target. */
export interface Observation {
  status: number;
  /** sha256 (hex) of the whole body; undefined when the body went over the read cap. */
  digest?: string;
  /** The body (up to the cap) as UTF-8, present when the target has a bodyMatch. */
  text?: string;
  /** True when the body was longer than the cap and reading stopped there. */
  truncated: boolean;
  /** The cap in bytes (for the wording). */
  capBytes: number;
  latencyMs: number;
  /** Peer certificate's notAfter (ms since epoch), https only; undefined when no certificate was seen. */
  tlsValidTo?: number;
  /** Clock for the certificate check. */
  now: number;
  /** Issuer of the peer certificate (`CN=…, O=…`), https only. */
  tlsIssuer?: string;
}

export interface Verdict {
  ok: boolean;
  /** `ok`, or the first condition that failed. */
  reason: string;
  tlsDaysLeft?: number;
  /** Set when the failure is a sign the host took the site down on purpose (then `reason` starts `deplatformed:`). */
  deplatformed?: string;
}

/** HTTP 451 Unavailable For Legal Reasons (RFC 7725): always a deplatforming sign. */
export const STATUS_LEGAL = 451;
/** Suspension patterns are matched against the first 64 KiB of the body only (a bounded cost per probe). */
export const SUSPENSION_SCAN_BYTES = 64 * 1024;

/**
 * The deplatforming signs alone. Pure. Undefined when none holds: HTTP 451; a suspension-page pattern in the body;
 * a certificate whose issuer does not contain the expected one (https, when one is configured).
 */
export function deplatformSign(target: Pick<ProbeTarget, 'scheme' | 'suspensionPatterns' | 'expectedIssuer'>, obs: Pick<Observation, 'status' | 'text' | 'tlsIssuer'>): string | undefined {
  if (obs.status === STATUS_LEGAL) return 'HTTP 451 Unavailable For Legal Reasons';
  if (target.suspensionPatterns?.length && obs.text !== undefined) {
    const text = obs.text.length > SUSPENSION_SCAN_BYTES ? obs.text.slice(0, SUSPENSION_SCAN_BYTES) : obs.text;
    for (const p of target.suspensionPatterns) {
      const m = compileBodyMatch(p);
      if ('error' in m) continue; // the stack schema compiles every pattern; a bad one never matches
      if (m.regex ? m.regex.test(text) : text.includes(m.text)) return `suspension page (matches ${JSON.stringify(shorten(p))})`;
    }
  }
  if (target.scheme === 'https' && target.expectedIssuer !== undefined && obs.tlsIssuer !== undefined && !obs.tlsIssuer.toLowerCase().includes(target.expectedIssuer.toLowerCase()))
    return `certificate issued by ${shorten(obs.tlsIssuer)}, expected ${JSON.stringify(shorten(target.expectedIssuer))}`;
  return undefined;
}

const DAY_MS = 86_400_000;

/**
 * Judges one response. Pure. Conditions are checked in a fixed order and the first failure is the reason:
 * deplatforming signs (451, suspension page, certificate issuer), status, content digest, body match, TLS expiry
 * (https), latency budget.
 */
export function evaluateResponse(target: ProbeTarget, obs: Observation): Verdict {
  const tlsDaysLeft = target.scheme === 'https' && obs.tlsValidTo !== undefined ? Math.floor((obs.tlsValidTo - obs.now) / DAY_MS) : undefined;
  const verdict = (reason: string): Verdict => (tlsDaysLeft === undefined ? { ok: reason === 'ok', reason } : { ok: reason === 'ok', reason, tlsDaysLeft });

  // checked first: a suspension page may well come with status 200
  const sign = deplatformSign(target, obs);
  if (sign) return { ...verdict(`deplatformed: ${sign}`), deplatformed: sign };

  if (!target.expectStatus.includes(obs.status)) return verdict(`status ${obs.status} (expected ${target.expectStatus.join(' or ')})`);

  if (target.expectedDigest !== undefined) {
    if (obs.truncated || obs.digest === undefined) return verdict(`body larger than the ${formatBytes(obs.capBytes)} read cap: digest not checked`);
    if (obs.digest !== target.expectedDigest.toLowerCase())
      return verdict(`content digest mismatch (got ${obs.digest.slice(0, 8)}.., expected ${target.expectedDigest.slice(0, 8)}..)`);
  }

  if (target.bodyMatch !== undefined) {
    const m = compileBodyMatch(target.bodyMatch);
    if ('error' in m) return verdict(`invalid bodyMatch ${shorten(target.bodyMatch)}: ${m.error}`);
    const text = obs.text ?? '';
    const found = m.regex ? m.regex.test(text) : text.includes(m.text);
    if (!found) return verdict(`body does not match ${m.regex ? shorten(target.bodyMatch) : JSON.stringify(shorten(m.text))}${obs.truncated ? ` (first ${formatBytes(obs.capBytes)} read)` : ''}`);
  }

  const tls = tlsReason(target, obs);
  if (tls) return verdict(tls);

  const latency = latencyReason(target, obs.latencyMs);
  if (latency) return verdict(latency);
  return verdict('ok');
}

/** The TLS expiry condition alone: undefined when it holds (or does not apply). */
export function tlsReason(target: ProbeTarget, obs: Pick<Observation, 'tlsValidTo' | 'now'>): string | undefined {
  if (target.scheme !== 'https') return undefined;
  if (obs.tlsValidTo === undefined) return 'TLS certificate not seen';
  const left = obs.tlsValidTo - obs.now;
  if (left <= 0) return `TLS certificate expired ${plural(Math.floor(-left / DAY_MS), 'day')} ago`;
  const days = Math.floor(left / DAY_MS);
  if (days < target.tlsMinDays) return `TLS certificate expires in ${plural(days, 'day')} (minimum ${target.tlsMinDays})`;
  return undefined;
}

/** The latency budget condition alone: undefined when it holds (or there is no budget). */
export function latencyReason(target: Pick<ProbeTarget, 'latencyBudgetMs'>, latencyMs: number): string | undefined {
  if (target.latencyBudgetMs === undefined || latencyMs <= target.latencyBudgetMs) return undefined;
  return `slow: ${Math.round(latencyMs)}ms > budget ${target.latencyBudgetMs}ms`;
}

export type BodyMatcher = { regex: RegExp; text?: undefined } | { regex?: undefined; text: string } | { error: string };

const REGEX_FORM = /^\/(.+)\/([imsu]*)$/s;
const compiled = new Map<string, BodyMatcher>();

/**
 * `bodyMatch` is a substring, or a regular expression when written between slashes (`/ok|up/i`).
 * Memoised (bounded) since the same few patterns are evaluated on every tick.
 */
export function compileBodyMatch(pattern: string): BodyMatcher {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  let m: BodyMatcher;
  const r = REGEX_FORM.exec(pattern);
  if (!r) m = { text: pattern };
  else {
    try {
      m = { regex: new RegExp(r[1], r[2]) };
    } catch (err) {
      m = { error: (err as Error).message };
    }
  }
  if (compiled.size >= 256) compiled.clear();
  compiled.set(pattern, m);
  return m;
}

function shorten(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
