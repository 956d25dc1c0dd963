import { isIP } from 'node:net';
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.ts';
import { hasUserinfo, redactUrl } from './redact-url.ts';

/**
 * zod schemas of the values stack files hold (addresses, ports, URLs, names of environment variables, durations),
 * shared by the fleet schema (config/) and the provider settings. Each accepts only what the code reading it can
 * use, so what `flotilla validate` accepts, the planner, the drivers and the daemon can run. Error messages never
 * repeat a value that may be a secret (names of variables, URLs with credentials).
 */

/** A TCP/UDP port a client can connect to. */
export const port = z.number().int().min(1).max(65535);

/**
 * The NAME of an environment variable (`CF_API_TOKEN`), never its value. The value given is not repeated in the
 * error: the usual mistake is pasting the secret itself here.
 */
export const envVarName = z.string().superRefine((s, ctx) => {
  if (/^[A-Z_][A-Z0-9_]{0,127}$/.test(s)) return;
  const pasted = s.length >= 16 || /[^A-Za-z0-9_]/.test(s);
  ctx.addIssue({
    code: 'custom',
    message: pasted
      ? 'expected the NAME of an environment variable (e.g. CF_API_TOKEN), and this looks like a secret value: it is not shown here. Put the secret in an environment variable and write that variable\'s name'
      : 'expected the name of an environment variable: upper-case letters, digits and _, not starting with a digit (e.g. CF_API_TOKEN); the value given is not shown',
  });
});

/** An IPv4 address in dotted-quad form (no leading zeros, which some parsers read as octal). */
export const ipv4Address = z.string().refine((s) => isIP(s) === 4, 'expected an IPv4 address like 192.0.2.10');

/**
 * An IPv6 address, returned in its canonical form (RFC 5952: lower case, longest zero run compressed), which is what
 * every provider publishes and what `AAAA` values compare as. Zone ids (`%eth0`) have no meaning in DNS.
 */
export const ipv6Address = z.string().transform((s, ctx) => {
  const canonical = isIP(s) === 6 && !s.includes('%') ? canonicalIpv6(s) : undefined;
  if (canonical === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected an IPv6 address like 2001:db8::10, found ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  return canonical;
});

/** The RFC 5952 text of a valid IPv6 literal, by the WHATWG URL parser (node:net validates but does not normalise). */
export function canonicalIpv6(address: string): string | undefined {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** An address a socket can be bound to: an IP literal (`127.0.0.1`, `::1`, `0.0.0.0`), never a name to resolve. */
export const listenAddress = z.string().refine((s) => isIP(s) !== 0, 'expected an IP address to listen on, like 127.0.0.1 or ::1 (not a host name)');

/** A host name (`ns1.example.com`, `localhost`); an all-numeric last label is only accepted as an IPv4 address. */
export function isHostName(s: string): boolean {
  const n = s.replace(/\.$/, '');
  if (n.length < 1 || n.length > 253) return false;
  const labels = n.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]) || isIP(n) === 4;
}

/** `host:port`, `[ipv6]:port`, or (when the port is optional) a bare host. Ports 1..65535; hosts are names or IPs. */
export function parseHostPort(s: string, portRequired: boolean): { host: string; port?: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  if (m[1] !== undefined ? isIP(m[1]) !== 6 || m[1].includes('%') : !isHostName(host)) return undefined;
  if (m[3] === undefined) return portRequired ? undefined : { host };
  const p = Number(m[3]);
  return p >= 1 && p <= 65535 ? { host, port: p } : undefined;
}

/** `host` or `host:port` (IPv6 in brackets), as DNS servers are named in provider settings. */
export const hostPort = z
  .string()
  .refine((s) => parseHostPort(s, false) !== undefined, 'expected host or host:port (IPv6 in brackets: [::1]:53), port 1-65535');

/** A host name or an IP address, as sent in a Host header or TLS SNI. */
export const hostHeader = z.string().refine((s) => isHostName(s) || isIP(s) !== 0, 'expected a host name like www.example.com (or an IP address)');

/**
 * An http(s) URL without credentials. `credentialHint` names where the credential belongs instead (`apiKeyEnv`);
 * a URL with `user:password@` is refused and shown redacted, so the secret never reaches a log or the audit.
 */
export function httpUrl(credentialHint: string) {
  return z.string().superRefine((s, ctx) => {
    if (hasUserinfo(s)) {
      ctx.addIssue({ code: 'custom', message: `a URL must not carry credentials (user:password@), found ${JSON.stringify(redactUrl(s))}: put the credential in ${credentialHint}` });
      return;
    }
    let u: URL | undefined;
    try {
      u = new URL(s);
    } catch {
      /* worded below */
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '')
      ctx.addIssue({ code: 'custom', message: `expected an http(s) URL like https://api.example.com/v1, found ${JSON.stringify(redactUrl(s))}` });
  });
}

/** A duration string (`250ms`, `2s`, `5m`) between `minMs` and `maxMs`, returned in milliseconds. */
export function durationMs(minMs: number, maxMs: number) {
  return z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      const found = JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
      ctx.addIssue({ code: 'custom', message: `expected a duration with a unit (250ms, 2s, 5m) from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, found ${found}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** The same bounds, keeping the text (for settings parsed twice: by the loader and again by the driver registry). */
export function durationText(minMs: number, maxMs: number) {
  return z.string().superRefine((s, ctx) => {
    const r = durationMs(minMs, maxMs).safeParse(s);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message });
  });
}
