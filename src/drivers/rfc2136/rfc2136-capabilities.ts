import type { DriverCapabilities } from '../dns-driver.ts';

/** Changes per UPDATE message: keeps messages well under 64 KiB and server-side transactions short. */
export const RFC2136_MAX_BATCH = 100;

export const rfc2136Capabilities: DriverCapabilities = {
  granularity: 'rrset',
  atomicBatch: true,
  minTtl: 0,
  types: ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'MX', 'CAA', 'SRV'],
  maxBatch: RFC2136_MAX_BATCH,
  writeBudget: { requests: Number.POSITIVE_INFINITY, perMs: 1000 },
};
