import { join } from 'node:path';
import { parseDuration } from '../domain/duration.ts';
import { UsageError } from '../domain/errors.ts';
import type { DnsProviderSpec } from '../domain/fleet-spec.ts';
import { providerSettingsSchemas, type DriverContext } from '../domain/provider-settings.ts';
import type { DnsDriver } from './dns-driver.ts';

export interface RegistryContext {
  env: Record<string, string | undefined>;
  /** The state directory; the embedded server's zones live in `<stateDir>/zones` unless the stack says otherwise. */
  stateDir: string;
}

/** Builds the driver for one provider of the stack. Settings were validated by the config loader; parse applies defaults. */
export async function createDriver(p: DnsProviderSpec, ctx: RegistryContext): Promise<DnsDriver> {
  const settings = providerSettingsSchemas[p.kind].parse(p.settings);
  const base = { name: p.name, env: ctx.env };
  switch (p.kind) {
    case 'local': {
      const { createLocalDriver } = await import('./local/local-driver.ts');
      const s = settings as DriverContext<import('../domain/provider-settings.ts').LocalSettings>['settings'];
      return createLocalDriver({ ...base, settings: s, zoneDir: localZoneDir(s.zoneDir, ctx.stateDir) });
    }
    case 'rfc2136': {
      const { createRfc2136Driver } = await import('./rfc2136/rfc2136-driver.ts');
      return createRfc2136Driver({ ...base, settings: settings as never });
    }
    case 'powerdns': {
      const { createPowerdnsDriver } = await import('./powerdns/powerdns-driver.ts');
      const s = settings as import('../domain/provider-settings.ts').PowerdnsSettings;
      return createPowerdnsDriver({ ...base, settings: s }, { timeoutMs: parseDuration(s.timeout ?? '10s') });
    }
    case 'cloudflare': {
      const { createCloudflareDriver } = await import('./cloudflare/cloudflare-driver.ts');
      return createCloudflareDriver({ ...base, settings: settings as never });
    }
    case 'route53': {
      const { createRoute53Driver } = await import('./route53/route53-driver.ts');
      return createRoute53Driver({ ...base, settings: settings as never });
    }
    case 'hcloud': {
      const { createHcloudDriver } = await import('./hcloud/hcloud-driver.ts');
      return createHcloudDriver({ ...base, settings: settings as never });
    }
    default:
      throw new UsageError(`unknown DNS provider kind ${(p as { kind: string }).kind}`);
  }
}

export function localZoneDir(zoneDir: string | undefined, stateDir: string): string {
  return zoneDir ?? join(stateDir, 'zones');
}

export async function createDrivers(providers: readonly DnsProviderSpec[], ctx: RegistryContext): Promise<DnsDriver[]> {
  return Promise.all(providers.map((p) => createDriver(p, ctx)));
}
