import { parseDuration } from '../../domain/duration.ts';
import type { ProviderDescriptor } from '../provider-descriptor.ts';
import { powerdnsCapabilities } from './powerdns-capabilities.ts';
import { powerdnsSettings } from './powerdns-settings.ts';

export const powerdnsProvider = {
  kind: 'powerdns',
  settings: powerdnsSettings,
  capabilities: powerdnsCapabilities,
  zones: 'operator',
  docs: { writes: 'PowerDNS Authoritative HTTP API, rrsets PATCH', atomicBatch: 'yes (one PATCH)', provenAgainst: '`pdns_server` + sqlite' },
  async load(ctx) {
    const { createPowerdnsDriver } = await import('./powerdns-driver.ts');
    return createPowerdnsDriver(ctx, { timeoutMs: parseDuration(ctx.settings.timeout ?? '10s') });
  },
} as const satisfies ProviderDescriptor<'powerdns', typeof powerdnsSettings>;
