import { z } from 'zod';
import { normalizeName, type RecordSet } from '../../domain/records.ts';
import { rfc2136Settings } from '../../domain/provider-settings.ts';
import { createRfc2136Driver } from '../../drivers/rfc2136/rfc2136-driver.ts';
import type { RegistrarDriver } from '../registrar-driver.ts';

/** A parent zone you run (BIND, Knot, PowerDNS) as the "registrar": the delegation is its NS RRset for the domain. */
export const rfc2136RegistrarSettings = rfc2136Settings
  .extend({
    /** The zone holding the delegation; default the domain without its first label. */
    parentZone: z.string().optional(),
    /** TTL of the NS RRset written at the parent (seconds). */
    ttl: z.number().int().min(1).max(604_800).default(3600),
  })
  .strict();
export type Rfc2136RegistrarSettings = z.infer<typeof rfc2136RegistrarSettings>;

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
