import { z } from 'zod';
import { httpUrl } from '../../domain/setting-values.ts';
import { envName } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of an hcloud provider. `endpoint` lets tests point the driver at a contract fake. */
export const hcloudSettings = z
  .object({
    tokenEnv: envName,
    /** default https://api.hetzner.cloud/v1 */
    endpoint: httpUrl('tokenEnv').optional(),
  })
  .strict();

export type HcloudSettings = z.infer<typeof hcloudSettings>;
