import type { RegistrarSpec } from '../domain/fleet-spec.ts';
import { rfc2136RegistrarSettings } from './rfc2136/rfc2136-registrar-settings.ts';
import { route53DomainsRegistrarSettings } from './route53domains/route53domains-registrar-settings.ts';
import type { RegistrarDriver } from './registrar-driver.ts';

/**
 * The registrar driver flotilla can use at run time for one registrar of the stack, or undefined when that kind is
 * set only by hand or by Pulumi at deploy time (cloudflare, manual). route53domains is set by Pulumi at deploy time
 * AND by the delegation guard at run time (infra reads the guard's prune state so the two agree).
 */
export async function createRegistrar(r: RegistrarSpec, env: Record<string, string | undefined>): Promise<RegistrarDriver | undefined> {
  switch (r.kind) {
    case 'rfc2136': {
      const { createRfc2136Registrar } = await import('./rfc2136/rfc2136-registrar.ts');
      return createRfc2136Registrar({ name: r.name, settings: rfc2136RegistrarSettings.parse(r.settings), env });
    }
    case 'route53domains': {
      const { createRoute53DomainsRegistrar } = await import('./route53domains/route53domains-registrar.ts');
      return createRoute53DomainsRegistrar({ name: r.name, settings: route53DomainsRegistrarSettings.parse(r.settings ?? {}) });
    }
    case 'cloudflare':
    case 'manual':
      return undefined;
  }
}
