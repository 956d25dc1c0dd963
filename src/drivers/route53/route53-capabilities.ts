import type { DriverCapabilities } from '../dns-driver.ts';
import { ROUTE53_LIMITS, ROUTE53_TYPES } from './route53-records.ts';

export const route53Capabilities: DriverCapabilities = {
  granularity: 'rrset',
  atomicBatch: true,
  // Route 53 accepts 1 s, but 60 s is what AWS recommends for failover records.
  minTtl: 1,
  types: ROUTE53_TYPES,
  maxBatch: ROUTE53_LIMITS.changes,
  // 5 requests/s per account is the figure for older accounts (10 for newer); we budget for the lower one.
  writeBudget: { requests: 5, perMs: 1000 },
};
