import { z } from 'zod';
import { httpUrl } from '../../domain/setting-values.ts';
import { envName } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a cloudflare provider. `baseUrl` lets tests point the driver at a contract fake. */
export const cloudflareSettings = z
  .object({
    tokenEnv: envName,
    accountId: z.string().optional(),
    /** API base URL; default https://api.cloudflare.com/client/v4 */
    baseUrl: httpUrl('tokenEnv').optional(),
    /** Records per batch request (200 on Free, 3500 on paid plans: the API refuses more). */
    batchSize: z.number().int().min(1).max(3500).optional(),
  })
  .strict();

export type CloudflareSettings = z.infer<typeof cloudflareSettings>;
