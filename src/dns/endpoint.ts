/**
 * Where a DNS server listens: `host`, `host:port`, `[v6]:port` or a bare IPv6 address, port 53 unless given.
 * The one parser of DNS server addresses (the DNS client, the RFC 2136 transport, the probes).
 */
import { isIPv6 } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address. Lenient: settings are validated by src/domain/setting-values.ts. */
export function parseEndpoint(server: string, defaultPort = 53): Endpoint {
  const s = server.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : defaultPort };
  if (isIPv6(s)) return { host: s, port: defaultPort };
  const i = s.lastIndexOf(':');
  if (i > 0) return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  return { host: s, port: defaultPort };
}

/** `host:port`, IPv6 in brackets. */
export function formatEndpoint(ep: Endpoint): string {
  return isIPv6(ep.host) ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
}
