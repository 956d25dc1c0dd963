import type { ProviderDescriptor } from '../provider-descriptor.ts';
import { rfc2136Capabilities } from './rfc2136-capabilities.ts';
import { rfc2136Settings } from './rfc2136-settings.ts';

export const rfc2136Provider = {
  kind: 'rfc2136',
  settings: rfc2136Settings,
  capabilities: rfc2136Capabilities,
  zones: 'operator',
  docs: {
    writes: 'RFC 2136 UPDATE + AXFR, TSIG (RFC 8945) hmac-sha256/512/sha1',
    batch: '100 / 60 KB',
    atomicBatch: 'yes (one UPDATE)',
    provenAgainst: 'BIND9 `named` and Knot `knotd`',
  },
  async load(ctx) {
    const { createRfc2136Driver } = await import('./rfc2136-driver.ts');
    return createRfc2136Driver(ctx);
  },
} as const satisfies ProviderDescriptor<'rfc2136', typeof rfc2136Settings>;
