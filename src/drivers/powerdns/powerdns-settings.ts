import { z } from 'zod';
import { envName, hostPort } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a powerdns provider (the Authoritative server's HTTP API). */
export const powerdnsSettings = z
  .object({
    url: z.string().url(),
    apiKeyEnv: envName,
    serverId: z.string().default('localhost'),
    /** host:port of the server's DNS listener(s), for verification; defaults to the zone's NS set. */
    nameservers: z.array(hostPort).optional(),
    /** Per-request timeout of the API (default 10s). */
    timeout: z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration like 500ms or 10s').optional(),
  })
  .strict();

export type PowerdnsSettings = z.infer<typeof powerdnsSettings>;
