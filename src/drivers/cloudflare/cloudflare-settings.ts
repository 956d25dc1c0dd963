import { z } from 'zod';
import { envName } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a cloudflare provider. `baseUrl` lets tests point the driver at a contract fake. */
export const cloudflareSettings = z
  .object({
    tokenEnv: envName,
    accountId: z.string().optional(),
    /** API base URL; default https://api.cloudflare.com/client/v4 */
    baseUrl: z.string().url().optional(),
    /** Records per batch request (200 on Free, 3500 on paid plans). */
    batchSize: z.number().int().positive().optional(),
  })
  .strict();

export type CloudflareSettings = z.infer<typeof cloudflareSettings>;
