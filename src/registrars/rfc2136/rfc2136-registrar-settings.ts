import { z } from 'zod';
import { rfc2136Settings } from '../../drivers/rfc2136/rfc2136-settings.ts';

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
