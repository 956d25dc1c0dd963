import { NAMESPACE } from '../config/load-stack.ts';
import { ConfigError } from '../domain/errors.ts';

/** Which listener of the stack file failed to bind: the path of its address setting (`server`, `dnsProviders[0].settings`). */
export interface Listener {
  /** Stack file the address comes from. */
  file: string;
  /** Path of the object holding `listen` and `port` in the fleet spec, e.g. `server`. */
  setting: string;
  /** What listens there, for the reader: "the status page / API", "the embedded DNS server". */
  what: string;
  listen: string;
  port: number;
}

const WHY: Record<string, { why: string; key: 'listen' | 'port'; fix: string }> = {
  EADDRINUSE: { why: 'the address is already in use', key: 'port', fix: 'stop the process holding it (ss -ltnup shows it) or choose another port' },
  EACCES: { why: 'permission denied', key: 'port', fix: 'ports below 1024 need root or CAP_NET_BIND_SERVICE: choose a port above 1023' },
  EADDRNOTAVAIL: { why: 'no interface of this host has that address', key: 'listen', fix: 'use an address of this host, e.g. 127.0.0.1 or ::1' },
  EAFNOSUPPORT: { why: 'this host does not support that address family', key: 'listen', fix: 'use an IPv4 address such as 127.0.0.1' },
  EINVAL: { why: 'the address cannot be bound', key: 'listen', fix: 'use an address of this host, e.g. 127.0.0.1' },
  ENOTFOUND: { why: 'the address is not an IP address of this host', key: 'listen', fix: 'use an IP address, e.g. 127.0.0.1' },
};

/**
 * The error a user sees when a listener cannot bind: the file, the setting, what to do; exit 2, no stack trace.
 * Returns undefined for an error that is not a failed bind/listen (the caller rethrows it: that one is a bug).
 */
export function listenFailure(e: unknown, l: Listener): ConfigError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  const known = err?.code ? WHY[err.code] : undefined;
  const socketCall = err?.syscall === 'listen' || err?.syscall === 'bind' || err?.syscall === 'getaddrinfo';
  if (!known || !socketCall) return undefined;
  const at = l.listen.includes(':') ? `[${l.listen}]:${l.port}` : `${l.listen}:${l.port}`;
  return new ConfigError(l.file, [
    { path: `${NAMESPACE}:fleet.${l.setting}.${known.key}`, message: `${l.what} cannot listen on ${at}: ${known.why} (${err!.code}); ${known.fix}` },
  ]);
}
