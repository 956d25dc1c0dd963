import type { RegistrarSpec } from '../domain/fleet-spec.ts';
import { rfc2136RegistrarSettings } from './rfc2136/rfc2136-registrar-settings.ts';
import type { RegistrarDriver } from './registrar-driver.ts';

/**
 * The registrar driver flotilla can use at run time for one registrar of the stack, or undefined when that kind is
 * set by Pulumi at deploy time or by hand (route53domains, cloudflare, manual).
 */
export async function createRegistrar(r: RegistrarSpec, env: Record<string, string | undefined>): Promise<RegistrarDriver | undefined> {
  switch (r.kind) {
    case 'rfc2136': {
      const { createRfc2136Registrar } = await import('./rfc2136/rfc2136-registrar.ts');
      return createRfc2136Registrar({ name: r.name, settings: rfc2136RegistrarSettings.parse(r.settings), env });
    }
    case 'route53domains':
    case 'cloudflare':
    case 'manual':
      return undefined;
  }
}
