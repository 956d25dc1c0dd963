import type { DriverCapabilities } from '../dns-driver.ts';

export const powerdnsCapabilities: DriverCapabilities = {
  granularity: 'rrset',
  atomicBatch: true,
  minTtl: 0,
  types: ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'MX', 'SRV', 'CAA'],
  // RRsets per PATCH
  maxBatch: 1000,
  writeBudget: { requests: Infinity, perMs: 1000 },
};
