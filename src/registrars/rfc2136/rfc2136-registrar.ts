import { normalizeName, type RecordSet } from '../../domain/records.ts';
import { createRfc2136Driver } from '../../drivers/rfc2136/rfc2136-driver.ts';
import type { RegistrarDriver } from '../registrar-driver.ts';
import type { Rfc2136RegistrarSettings } from './rfc2136-registrar-settings.ts';

export function createRfc2136Registrar(o: { name: string; settings: Rfc2136RegistrarSettings; env: Record<string, string | undefined> }): RegistrarDriver {
  const dns = createRfc2136Driver({ name: o.name, settings: o.settings, env: o.env });
  const parentOf = (domain: string) => normalizeName(o.settings.parentZone ?? domain.split('.').slice(1).join('.'));
  const current = async (domain: string, signal?: AbortSignal): Promise<RecordSet | undefined> => {
    const d = normalizeName(domain);
    return (await dns.listRecords(parentOf(d), signal)).find((r) => r.type === 'NS' && r.name === d);
  };
  return {
    name: o.name,
    kind: 'rfc2136',
    maxNameservers: 13,
    async getNameservers(domain, signal) {
      return [...((await current(domain, signal))?.values ?? [])].sort();
    },
    async setNameservers(domain, nameservers, signal) {
      const d = normalizeName(domain);
      const after: RecordSet = { name: d, type: 'NS', ttl: o.settings.ttl, values: [...nameservers].map(normalizeName).sort() };
      const before = await current(d, signal);
      // one signed UPDATE: the old set goes and the new one comes atomically, so the parent never lists neither
      await dns.applyChanges(parentOf(d), [before ? { action: 'update', before, after } : { action: 'create', after }], signal);
    },
    close: async () => dns.close?.(),
  };
}
