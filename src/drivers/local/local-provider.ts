import { join } from 'node:path';
import type { ProviderDescriptor } from '../provider-descriptor.ts';
import { LOCAL_CAPABILITIES } from './local-capabilities.ts';
import { localSettings } from './local-settings.ts';

/** Where a local provider's zone files live: its `zoneDir`, else `<stateDir>/zones`. */
export function localZoneDir(zoneDir: string | undefined, stateDir: string): string {
  return zoneDir ?? join(stateDir, 'zones');
}

export const localProvider = {
  kind: 'local',
  settings: localSettings,
  capabilities: LOCAL_CAPABILITIES,
  zones: 'operator',
  docs: { writes: 'zone files served by the embedded DNS server (UDP+TCP, AXFR)', provenAgainst: 'real server, `dig`' },
  async load(ctx) {
    const { createLocalDriver } = await import('./local-driver.ts');
    return createLocalDriver({ ...ctx, zoneDir: localZoneDir(ctx.settings.zoneDir, ctx.stateDir) });
  },
} as const satisfies ProviderDescriptor<'local', typeof localSettings>;
