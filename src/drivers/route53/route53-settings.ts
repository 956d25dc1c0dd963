import { z } from 'zod';
import { httpUrl } from '../../domain/setting-values.ts';
import { envName } from '../settings-fields.ts';

/** `dnsProviders[i].settings` of a route53 provider. `endpoint` lets tests point the driver at a contract fake. */
export const route53Settings = z
  .object({
    accessKeyIdEnv: envName,
    secretAccessKeyEnv: envName,
    region: z.string().default('us-east-1'),
    hostedZoneId: z.string().optional(),
    endpoint: httpUrl('accessKeyIdEnv and secretAccessKeyEnv').optional(),
  })
  .strict();

export type Route53Settings = z.infer<typeof route53Settings>;
