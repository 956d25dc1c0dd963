/**
 * How many clients the daemon's HTTP server holds and for how long (stack: `server.limits`): slow or idle clients
 * cannot exhaust file descriptors. Over a cap a connection is reset at accept (an event stream is answered 503).
 */
export interface ServerLimits {
  /** Open connections in all. */
  connections: number;
  /** Open connections from one client address (behind a reverse proxy every client shares the proxy's). */
  perClient: number;
  /** Open event streams (/events) in all, and from one client address. */
  eventStreams: number;
  eventStreamsPerClient: number;
  /** The request headers must arrive within this (else 408), the whole request within requestTimeoutMs. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (event streams push every 5 s). */
  idleTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  connections: 256,
  perClient: 32,
  eventStreams: 64,
  eventStreamsPerClient: 4,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
};
