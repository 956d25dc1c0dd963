import type { DriverCapabilities } from '../dns-driver.ts';
import { CLOUDFLARE_TYPES } from './cloudflare-records.ts';

/** Records per batch on the Free plan (the safe default). */
export const CLOUDFLARE_FREE_BATCH = 200;

export function cloudflareCapabilities(batchSize = CLOUDFLARE_FREE_BATCH): DriverCapabilities {
  return {
    granularity: 'record',
    atomicBatch: true,
    // 60 s for DNS-only records (30 s needs Enterprise; we do not assume it).
    minTtl: 60,
    types: CLOUDFLARE_TYPES,
    maxBatch: batchSize,
    // 1200 requests per 5 minutes per user/token, shared with every other use of the token.
    writeBudget: { requests: 1200, perMs: 5 * 60_000 },
  };
}
