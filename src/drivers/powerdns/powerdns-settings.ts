import { z } from 'zod';
import { durationText, httpUrl } from '../../domain/setting-values.ts';
import { envName, hostPort } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a powerdns provider (the Authoritative server's HTTP API). */
export const powerdnsSettings = z
  .object({
    url: httpUrl('apiKeyEnv').describe('the webserver, e.g. http://127.0.0.1:8081'),
    apiKeyEnv: envName,
    serverId: z.string().default('localhost'),
    /** host:port of the server's DNS listener(s), for verification; defaults to the zone's NS set. */
    nameservers: z.array(hostPort).optional(),
    /** Per-request timeout of the API. */
    timeout: durationText(10, 300_000).optional().describe('10s'),
  })
  .strict();

export type PowerdnsSettings = z.infer<typeof powerdnsSettings>;
