/**
 * Where a DNS server listens: `host`, `host:port`, `[v6]:port` or a bare IPv6 address, port 53 unless given.
 * The DNS client, the RFC 2136 transport and the probes parse with this; the grammar is the one the stack's
 * settings are validated with (parseHostPort in src/domain/setting-values.ts), so there is one.
 */
import { isIPv6 } from 'node:net';
import { parseHostPort } from '../domain/setting-values.ts';

export interface Endpoint {
  host: string;
  port: number;
}

/** Throws a plain Error naming the text when it is not `host`, `host:port`, `[v6]:port` or an IPv6 address. */
export function parseEndpoint(server: string, defaultPort = 53): Endpoint {
  const s = server.trim();
  if (isIPv6(s)) return { host: s, port: defaultPort };
  const p = parseHostPort(s, false);
  if (!p) throw new Error(`${JSON.stringify(server)} is not host, host:port or [ipv6]:port (port 1-65535)`);
  return { host: p.host, port: p.port ?? defaultPort };
}

/** `host:port`, IPv6 in brackets. */
export function formatEndpoint(ep: Endpoint): string {
  return isIPv6(ep.host) ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
}
