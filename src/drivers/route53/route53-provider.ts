import type { ProviderDescriptor } from '../provider-descriptor.ts';
import { route53Capabilities } from './route53-capabilities.ts';
import { route53Settings } from './route53-settings.ts';

export const route53Provider = {
  kind: 'route53',
  settings: route53Settings,
  capabilities: route53Capabilities,
  zones: 'pulumi',
  docs: {
    writes: '`@aws-sdk/client-route-53`, ChangeResourceRecordSets, GetChange until INSYNC',
    batch: '100 changes',
    minTtl: '1 (60 advised)',
    provenAgainst: 'contract fake via the SDK (SigV4 checked)',
  },
  async load(ctx) {
    const { createRoute53Driver } = await import('./route53-driver.ts');
    return createRoute53Driver(ctx);
  },
} as const satisfies ProviderDescriptor<'route53', typeof route53Settings>;
