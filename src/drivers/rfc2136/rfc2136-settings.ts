import { z } from 'zod';
import { durationText, isHostName } from '../../domain/setting-values.ts';
import { envName, hostPort } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of an rfc2136 provider (any primary taking TSIG-signed UPDATE and AXFR). */
export const rfc2136Settings = z
  .object({
    /** Primary server receiving UPDATE and AXFR, host:port. */
    server: hostPort.describe('host:port'),
    tsigKeyName: z.string().refine(isHostName, 'expected a TSIG key name: a domain-style name like flotilla-key'),
    tsigAlgorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']).default('hmac-sha256'),
    tsigSecretEnv: envName,
    nameservers: z.array(hostPort).optional(),
    /** UDP/TCP timeout per message. */
    timeout: durationText(10, 300_000).default('5s'),
  })
  .strict();

export type Rfc2136Settings = z.infer<typeof rfc2136Settings>;
