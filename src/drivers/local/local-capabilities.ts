import type { DriverCapabilities } from '../dns-driver.ts';
import { LOCAL_TYPES } from './zone-data.ts';

export const LOCAL_CAPABILITIES: DriverCapabilities = {
  granularity: 'zone',
  atomicBatch: true,
  minTtl: 0,
  types: LOCAL_TYPES,
  maxBatch: 10_000,
  writeBudget: { requests: Infinity, perMs: 1000 },
};
