import { z } from 'zod';
import { listenAddress, port } from '../../domain/setting-values.ts';
import { cidr, hostPort } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a local provider (the embedded DNS server). */
export const localSettings = z
  .object({
    /** Address the embedded DNS server listens on (loopback for the demo). */
    listen: listenAddress.default('127.0.0.1'),
    port: port.default(5353),
    /** Directory holding the zone files the embedded server serves. */
    zoneDir: z.string().optional().describe('default `<state.path>/zones`'),
    nameservers: z.array(hostPort).optional(),
    /** Clients allowed to transfer the zones (AXFR), as addresses or CIDRs; default loopback only. */
    axfrAllow: z.array(cidr).optional(),
  })
  .strict();

export type LocalSettings = z.infer<typeof localSettings>;
