import type { ProviderDescriptor } from '../provider-descriptor.ts';
import { hcloudCapabilities } from './hcloud-capabilities.ts';
import { hcloudSettings } from './hcloud-settings.ts';

export const hcloudProvider = {
  kind: 'hcloud',
  settings: hcloudSettings,
  capabilities: hcloudCapabilities,
  zones: 'pulumi',
  docs: { writes: 'Hetzner Cloud API zones/rrsets (no official JS SDK)', provenAgainst: 'contract fake' },
  async load(ctx) {
    const { createHcloudDriver } = await import('./hcloud-driver.ts');
    return createHcloudDriver(ctx);
  },
} as const satisfies ProviderDescriptor<'hcloud', typeof hcloudSettings>;
