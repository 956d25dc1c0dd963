import type { DriverCapabilities } from '../dns-driver.ts';
import { HCLOUD_TYPES } from './hcloud-records.ts';

export const hcloudCapabilities: DriverCapabilities = {
  granularity: 'rrset',
  atomicBatch: false,
  minTtl: 60,
  types: HCLOUD_TYPES,
  // one RRset per request
  maxBatch: 1,
  // ≈ 3600 requests per hour per project
  writeBudget: { requests: 3600, perMs: 3_600_000 },
};
