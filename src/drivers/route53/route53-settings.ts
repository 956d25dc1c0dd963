import { z } from 'zod';
import { httpUrl } from '../../domain/setting-values.ts';
import { envName } from '../settings-fields.ts';

/**
 * `dnsProviders[i].settings` of a route53 provider. `endpoint` lets tests point the driver at a contract fake.
 * Credentials: with no `*Env` names, the AWS SDK's default credential chain (AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN,
 * SSO, ~/.aws/credentials and config with `profile`, web identity, container or instance role); with
 * `accessKeyIdEnv` + `secretAccessKeyEnv` (and `sessionTokenEnv` for temporary keys), exactly those variables.
 */
export const route53Settings = z
  .object({
    accessKeyIdEnv: envName.optional(),
    secretAccessKeyEnv: envName.optional(),
    sessionTokenEnv: envName.optional(),
    /** A named profile of the shared config files (default chain only). */
    profile: z.string().regex(/^[A-Za-z0-9_.+-]{1,64}$/, 'expected a profile name').optional(),
    region: z.string().default('us-east-1'),
    hostedZoneId: z.string().optional(),
    endpoint: httpUrl('accessKeyIdEnv and secretAccessKeyEnv, or the default credential chain').optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.accessKeyIdEnv === undefined) !== (s.secretAccessKeyEnv === undefined))
      ctx.addIssue({ code: 'custom', path: [s.accessKeyIdEnv ? 'secretAccessKeyEnv' : 'accessKeyIdEnv'], message: 'expected both accessKeyIdEnv and secretAccessKeyEnv, or neither (then the AWS SDK default credential chain is used)' });
    if (s.sessionTokenEnv && !s.accessKeyIdEnv) ctx.addIssue({ code: 'custom', path: ['sessionTokenEnv'], message: 'sessionTokenEnv goes with accessKeyIdEnv and secretAccessKeyEnv' });
    if (s.profile && s.accessKeyIdEnv) ctx.addIssue({ code: 'custom', path: ['profile'], message: 'profile is for the default credential chain; leave it out when naming key variables' });
  });

export type Route53Settings = z.infer<typeof route53Settings>;
