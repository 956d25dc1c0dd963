import { z } from 'zod';
import { envName, hostPort } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of an rfc2136 provider (any primary taking TSIG-signed UPDATE and AXFR). */
export const rfc2136Settings = z
  .object({
    /** Primary server receiving UPDATE and AXFR, host:port. */
    server: hostPort.describe('host:port'),
    tsigKeyName: z.string(),
    tsigAlgorithm: z.enum(['hmac-sha256', 'hmac-sha512', 'hmac-sha1']).default('hmac-sha256'),
    tsigSecretEnv: envName,
    nameservers: z.array(hostPort).optional(),
    /** UDP/TCP timeout per message. */
    timeout: z.string().default('5s'),
  })
  .strict();

export type Rfc2136Settings = z.infer<typeof rfc2136Settings>;
