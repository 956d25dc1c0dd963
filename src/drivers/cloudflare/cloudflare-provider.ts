import type { ProviderDescriptor } from '../provider-descriptor.ts';
import { cloudflareCapabilities } from './cloudflare-capabilities.ts';
import { cloudflareSettings } from './cloudflare-settings.ts';

export const cloudflareProvider = {
  kind: 'cloudflare',
  settings: cloudflareSettings,
  capabilities: cloudflareCapabilities(),
  zones: 'pulumi',
  docs: {
    writes: 'official `cloudflare` SDK, `dns_records/batch`',
    batch: '200 (`batchSize`)',
    atomicBatch: 'yes (one batch)',
    provenAgainst: 'contract fake via the SDK',
  },
  async load(ctx) {
    const { createCloudflareDriver } = await import('./cloudflare-driver.ts');
    return createCloudflareDriver(ctx);
  },
} as const satisfies ProviderDescriptor<'cloudflare', typeof cloudflareSettings>;
