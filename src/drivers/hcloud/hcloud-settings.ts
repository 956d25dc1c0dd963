import { z } from 'zod';
import { envName } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of an hcloud provider. `endpoint` lets tests point the driver at a contract fake. */
export const hcloudSettings = z
  .object({
    tokenEnv: envName,
    /** default https://api.hetzner.cloud/v1 */
    endpoint: z.string().url().optional(),
  })
  .strict();

export type HcloudSettings = z.infer<typeof hcloudSettings>;
