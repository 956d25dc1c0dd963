/** Defaults of the embedded DNS server's limits (settings `tcp` and `rrl` of a `local` provider). */
export const DNS_TCP_DEFAULTS = { connections: 64, perClient: 8, idleTimeoutMs: 10_000 } as const;
/** As BIND's RRL: 20 answers a second per client network, every 2nd answer over it sent truncated (TC=1). */
export const RRL_DEFAULTS = { responsesPerSecond: 20, slip: 2, maxEntries: 10_000 } as const;
